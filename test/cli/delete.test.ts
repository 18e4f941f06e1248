/**
 * `imagine-video delete` in-process over real HTTP against the emulator: verified deletes with receipts
 * (reason, source), duplicates removed, every id checked before any request, configuration problems
 * (missing token, unreachable endpoint, receipts that cannot be written) as exit 2 before any delete,
 * a dropped delete sent again, the progress bar on a terminal, and the token never printed.
 */
import * as fs from "fs";
import * as path from "path";
import type { RunningEmulator } from "imagine-api-emulator";
import { collectIds, MalformedIdsError } from "../../provider/cli/ids";
import { apiRequests, cli, emulator, envFor, KEY, receiptsIn, seed, tempDir } from "./helpers";

const RECEIPT_KEYS = [
    "videoId",
    "project",
    "stack",
    "name",
    "deletedAt",
    "method",
    "verification",
    "attempts",
    "reason",
    "source",
];

let emu: RunningEmulator;
afterEach(async () => {
    await emu?.stop();
});

it("deletes the ids of a file once each, verified, with a receipt per video carrying the reason and source", async () => {
    emu = await emulator();
    const ids = await seed(emu, 3);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "ids.txt"), `# privacy request 1234\n${ids.join("\n")}\n\n${ids[0]}\r\n`);
    const r = await cli(["delete", "--ids-file", "ids.txt", "--reason", "privacy request #1234"], envFor(emu.url), dir);
    expect(r.code).toBe(0);
    expect(r.events[0]).toMatchObject({ event: "start", total: 3, duplicates: 1 });
    expect(r.events.filter((e) => e.event === "deleted").map((e) => e.id)).toEqual(expect.arrayContaining(ids));
    expect(r.events.at(-1)).toMatchObject({ event: "summary", total: 3, deleted: 3, failed: [], interrupted: false });
    const receipts = receiptsIn(path.join(dir, "imagine-deletions.jsonl"));
    expect(receipts.map((x) => x.videoId).sort()).toEqual([...ids].sort());
    for (const x of receipts) {
        expect(Object.keys(x)).toEqual(RECEIPT_KEYS);
        expect(x).toMatchObject({
            project: null,
            method: "DELETE",
            verification: "status-404",
            attempts: 1,
            reason: "privacy request #1234",
            source: "cli",
        });
    }
    expect((await emu.stats()).videosStored).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);
});

it("reads ids from stdin, writes receipts where IMAGINE_DELETION_LOG says, and counts a gone video as deleted", async () => {
    emu = await emulator();
    const [id] = await seed(emu, 1);
    const dir = tempDir();
    const r = await cli(
        ["delete", "--ids-file", "-"],
        envFor(emu.url, { IMAGINE_DELETION_LOG: "audit/d.jsonl" }),
        dir,
        {
            stdin: `${id}\nnever-existed-0001\n`,
        },
    );
    expect(r.code).toBe(0);
    const receipts = receiptsIn(path.join(dir, "audit", "d.jsonl"));
    expect(receipts.map((x) => [x.videoId, x.verification])).toEqual(
        expect.arrayContaining([
            [id, "status-404"],
            ["never-existed-0001", "already-gone"],
        ]),
    );
    expect(receipts[0].reason).toBeNull();
});

it("checks every id before any request: a malformed line stops everything with exit 2, naming the line", async () => {
    emu = await emulator();
    const ids = await seed(emu, 2);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "ids.txt"), `${ids[0]}\n${ids[1]}\nbad/id\nwith space\n`);
    const before = await apiRequests(emu);
    const r = await cli(["delete", "--ids-file", "ids.txt"], envFor(emu.url), dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ids.txt line 3: not a video id");
    expect(r.stderr).toContain("ids.txt line 4: not a video id (it contains whitespace)");
    expect(r.stderr).not.toContain("bad/id");
    expect(await apiRequests(emu)).toBe(before);
    expect((await emu.stats()).videosStored).toBe(2);
});

it("refuses bad configuration with exit 2 before any delete: no token, a token flag, unreachable endpoint, unwritable receipts", async () => {
    emu = await emulator();
    const [id] = await seed(emu, 1);
    const dir = tempDir();
    const before = await apiRequests(emu);

    const noToken = await cli(["delete", id], { ...envFor(emu.url), IMAGINE_API_TOKEN: "" }, dir);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("IMAGINE_API_TOKEN");

    const flag = await cli(["delete", "--api-token", KEY, id], envFor(emu.url), dir);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("there is no token flag");
    expect(flag.stderr).not.toContain(KEY);

    fs.writeFileSync(path.join(dir, "a-file"), "");
    const receipts = await cli(["delete", id, "--receipts", "a-file/receipts.jsonl"], envFor(emu.url), dir);
    expect(receipts.code).toBe(2);
    expect(receipts.stderr).toContain("cannot be written");
    expect(await apiRequests(emu)).toBe(before);

    const unreachable = await cli(["delete", id], envFor("http://127.0.0.1:1"), dir);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain("does not answer; nothing was deleted");

    const usage = await cli(["delete"], envFor(emu.url), dir);
    expect(usage.code).toBe(2);
    expect((await emu.stats()).videosStored).toBe(1);
});

it("sends a dropped delete again until the video is gone (emulator dropFirstDelete)", async () => {
    emu = await emulator({ dropFirstDelete: true });
    const ids = await seed(emu, 2);
    const dir = tempDir();
    const r = await cli(["delete", ...ids], envFor(emu.url), dir);
    expect(r.code).toBe(0);
    const receipts = receiptsIn(path.join(dir, "imagine-deletions.jsonl"));
    expect(receipts.map((x) => x.attempts)).toEqual([2, 2]);
    expect((await emu.stats()).videosStored).toBe(0);
});

it("names each failed video and exits 1 (a video the vendor will not delete: DELETE and POST disallowed)", async () => {
    emu = await emulator();
    const [id] = await seed(emu, 1);
    emu.configure({ deleteMethods: [] });
    const r = await cli(
        ["delete", id, "--verbose"],
        envFor(emu.url, { IMAGINE_DELETE_TIMEOUT_MINUTES: "0.01" }),
        tempDir(),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`failed ${id}:`);
    expect(r.events.at(-1)).toMatchObject({ event: "summary", failed: [id] });
});

it("dry run: checks and lists, sends nothing, writes nothing; a progress bar on a terminal", async () => {
    emu = await emulator();
    const ids = await seed(emu, 2);
    const dir = tempDir();
    const before = await apiRequests(emu);
    const dry = await cli(["delete", ...ids, ids[0], "--dry-run"], envFor(emu.url), dir, { tty: true });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("dry run: 2 video(s) would be deleted (1 duplicate removed)");
    expect(await apiRequests(emu)).toBe(before);
    expect(fs.existsSync(path.join(dir, "imagine-deletions.jsonl"))).toBe(false);

    const real = await cli(["delete", ...ids], envFor(emu.url), dir, { tty: true });
    expect(real.code).toBe(0);
    expect(real.stdout).toContain("\r\u001b[2Kdeleting [");
    expect(real.stdout).toMatch(/deleting \[#+\] 2\/2 .*ETA .* failures 0/);
    expect(real.stdout).toContain("done: 2 deleted, 0 failed of 2");
});

it("streams ids beyond memory through bucket files: duplicates removed, every id once", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`id-${i}`, `id-${(i * 7) % 5000}`);
    const got = await collectIds({ lines, where: (n) => `line ${n}` }, 100);
    expect(got.spilled).toBe(true);
    expect(got.unique).toBe(5000);
    expect(got.duplicates).toBe(5000);
    const seen = new Set<string>();
    for await (const id of got.ids()) seen.add(id);
    expect(seen.size).toBe(5000);
    got.dispose();
    await expect(collectIds({ lines: ["ok", "not ok"], where: (n) => `line ${n}` })).rejects.toBeInstanceOf(
        MalformedIdsError,
    );
});
