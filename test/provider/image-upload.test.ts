/**
 * The image that is uploaded is the image that was checked, read when the request is sent (not while
 * it waits for the request budget), over real HTTP against the emulator; and `imageDigest` honours
 * `ignoreChanges` as the engine applies it (old inputs copied into the new ones before `check`).
 */
import * as fs from "fs";
import * as path from "path";
import { Clock } from "../../provider/core/clock";
import { until } from "../until";
import { countRequests, Harness, PROVIDER, startHarness } from "./harness";

const png = (fill: number) =>
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(400, fill)]);
const args = (imagePath: string) => ({
    prompt: "make it move",
    style: "kling-1.0-pro",
    imagePath,
    __provider: PROVIDER,
});

let h: Harness;
beforeEach(async () => (h = await startHarness()));
afterEach(async () => h.stop());

it("a file replaced between check and create fails clearly, and nothing is uploaded", async () => {
    const file = path.join(h.dataDir, "still.png");
    fs.writeFileSync(file, png(1));
    const p = await h.handlers();
    const { inputs, failures } = await p.check({}, args("still.png"));
    expect(failures).toEqual([]);
    fs.writeFileSync(file, png(2));
    const err = await p.create(inputs).then(
        () => undefined,
        (e: Error & { id?: string }) => e,
    );
    expect(err?.name).toBe("ImagineImageChangedError");
    expect(err?.message).toContain('imagePath "still.png" changed after it was checked');
    expect(err?.message).toContain("Nothing was uploaded");
    expect(err?.id).toBeUndefined();
    expect(countRequests(await h.emulator.stats(), /to-video/)).toBe(0);
});

it("a file that grew past the limit or stopped being an image is refused before reading it all", async () => {
    const file = path.join(h.dataDir, "grow.png");
    fs.writeFileSync(file, png(3));
    const p = await h.handlers();
    const { inputs } = await p.check({}, args("grow.png"));
    fs.writeFileSync(file, Buffer.alloc(10 * 1024 * 1024 + 1, 1));
    await expect(p.create(inputs)).rejects.toThrow("over the 10 MiB limit");
    fs.writeFileSync(file, "now a text file");
    await expect(p.create(inputs)).rejects.toThrow("no longer a JPEG or PNG");
    expect(countRequests(await h.emulator.stats(), /to-video/)).toBe(0);
});

it("the image is read when its request is sent, not while it waits for the budget", async () => {
    fs.writeFileSync(path.join(h.dataDir, "a.png"), png(4));
    fs.writeFileSync(path.join(h.dataDir, "b.png"), png(5));
    // A clock whose sleeps last until the test lets them go: the second create is held in the budget
    // (30 requests a minute: the first goes at once, the second must wait) for as long as the test needs.
    const held: (() => void)[] = [];
    let holding = true;
    let offset = 0;
    const clock: Clock = {
        now: () => Date.now() + offset,
        sleep: (ms) =>
            new Promise<void>((resolve) => {
                const wake = () => ((offset += ms), resolve());
                if (holding) held.push(wake);
                else wake();
            }),
    };
    const p = await h.handlers({ "imagine:requestsPerMinute": "30" }, { clock });
    const a = (await p.check({}, args("a.png"))).inputs;
    const b = (await p.check({}, args("b.png"))).inputs;
    const first = p.create({ ...a, waitForCompletion: false });
    const second = p.create({ ...b, waitForCompletion: false }).then(
        () => undefined,
        (e: Error) => e,
    );
    await first;
    await until("the second create to wait for the budget", () => held.length > 0);
    // The second is still queued: change its file now, then let it go.
    fs.writeFileSync(path.join(h.dataDir, "b.png"), png(6));
    holding = false;
    held.forEach((wake) => wake());
    const err = await second;
    expect(err?.name).toBe("ImagineImageChangedError");
    expect(countRequests(await h.emulator.stats(), /image-to-video/, "200")).toBe(1);
});

it("imageDigest honours ignoreChanges: the engine's carried digest is kept, so a re-saved image replaces nothing", async () => {
    const file = path.join(h.dataDir, "logo.png");
    fs.writeFileSync(file, png(7));
    const p = await h.handlers();
    const first = (await p.check({}, args("logo.png"))).inputs;
    const { id, outs } = await p.create(first);
    fs.writeFileSync(file, png(8)); // re-saved: other bytes

    // Without ignoreChanges the new digest replaces the video.
    const plain = (await p.check(first, args("logo.png"))).inputs;
    expect((await p.diff(id, outs, plain)).replaces).toEqual(["imageDigest"]);
    // With ignoreChanges: ["imageDigest"] the engine copies the old input into the new ones before check.
    const carried = (await p.check(first, { ...args("logo.png"), imageDigest: first.imageDigest })).inputs;
    expect(carried.imageDigest).toBe(first.imageDigest);
    expect(await p.diff(id, outs, carried)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    // A digest that is not the old input's is not trusted: it is computed from the file.
    const forged = (await p.check(first, { ...args("logo.png"), imageDigest: "sha256:" + "0".repeat(64) })).inputs;
    expect(forged.imageDigest).toBe(plain.imageDigest);
});
