/**
 * The delete switches over real HTTP: dropFirstDelete (the first delete of each video is acknowledged
 * and dropped; status and files still answer) and deleteLagSeconds (a delete takes effect that many
 * emulated seconds later, across a restart too), by the API, the CLI flags and the config route.
 */
import { parseCli } from "../../emulator/cli";
import { call, expectError, FakeClock, finishedVideo, remove, start, status, tempDir, type Harness } from "./helpers";

let h: Harness;
const clock = new FakeClock();
afterEach(async () => {
    await h?.stop();
});

test("dropFirstDelete: the first delete answers 200 and changes nothing; the second deletes", async () => {
    h = await start({ now: clock.now, processingSeconds: 10, dropFirstDelete: true });
    const a = await finishedVideo(h.emu, clock, 10);
    const b = await finishedVideo(h.emu, clock, 10);

    const first = await remove(h.emu, a.id);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ message: "video deleted", status: "success" });
    expect((await status(h.emu, a.id)).json.video.status).toBe("finished");
    expect((await call(a.generation)).status).toBe(200);
    expect((await h.emu.stats()).videosStored).toBe(2);

    // Per video: b's first delete is dropped too, while a's second one is applied.
    expect((await remove(h.emu, b.id, undefined, "POST")).status).toBe(200);
    expect((await remove(h.emu, a.id)).status).toBe(200);
    expectError(await status(h.emu, a.id), 404, 1104);
    expect((await call(a.generation)).status).toBe(404);
    expect((await status(h.emu, b.id)).status).toBe(200);
    expect((await h.emu.stats()).videosStored).toBe(1);
    expectError(await remove(h.emu, a.id), 404, 1104);
});

test("deleteLagSeconds: acknowledged at once, gone (status, files, stats) only once the emulated lag has passed, even after a restart", async () => {
    const dataDir = tempDir();
    h = await start({ dataDir, now: clock.now, processingSeconds: 10, deleteLagSeconds: 30 });
    const v = await finishedVideo(h.emu, clock, 10);
    expect((await remove(h.emu, v.id)).status).toBe(200);
    clock.advance(20);
    expect((await status(h.emu, v.id)).status).toBe(200);
    expect((await call(v.generation)).status).toBe(200);
    // A repeated delete keeps the earlier plan rather than pushing it out.
    expect((await remove(h.emu, v.id)).status).toBe(200);
    await h.stop();

    h = await start({ dataDir, now: clock.now, processingSeconds: 10, deleteLagSeconds: 30 });
    clock.advance(11);
    expect((await h.emu.stats()).videosStored).toBe(0);
    expectError(await status(h.emu, v.id), 404, 1104);
    // The same signed link, on the restarted emulator's port.
    expect((await call(h.emu.url + new URL(v.generation).pathname + new URL(v.generation).search)).status).toBe(404);
});

test("deleteLagSeconds with dropFirstDelete: the dropped delete plans nothing; the next one plans the removal", async () => {
    h = await start({ now: clock.now, processingSeconds: 10 });
    h.emu.configure({ dropFirstDelete: true, deleteLagSeconds: 5 });
    const v = await finishedVideo(h.emu, clock, 10);
    await remove(h.emu, v.id);
    clock.advance(60);
    expect((await status(h.emu, v.id)).status).toBe(200);
    await remove(h.emu, v.id);
    clock.advance(4);
    expect((await status(h.emu, v.id)).status).toBe(200);
    clock.advance(2);
    expect((await status(h.emu, v.id)).status).toBe(404);
});

test("the switches as CLI flags and through POST /__emulator/config, validated", async () => {
    const cli = parseCli(["--data-dir", "d", "--token", "k", "--drop-first-delete", "--delete-lag-seconds", "45"]);
    expect(cli !== "help" && cli.switches).toEqual({ dropFirstDelete: true, deleteLagSeconds: 45 });
    expect(() => parseCli(["--data-dir", "d", "--token", "k", "--delete-lag-seconds=-1"])).toThrow(
        "deleteLagSeconds must be at least 0",
    );
    h = await start({ now: clock.now });
    const post = (body: unknown) =>
        call(`${h.emu.url}/__emulator/config`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
        });
    expect((await post({ dropFirstDelete: true, deleteLagSeconds: 2.5 })).json).toMatchObject({
        dropFirstDelete: true,
        deleteLagSeconds: 2.5,
    });
    expectError(await post({ dropFirstDelete: "yes" }), 400, 1100);
    expectError(await post({ deleteLagSeconds: -3 }), 400, 1100);
});
