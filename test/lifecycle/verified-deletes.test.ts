/**
 * Verified deletes through the engine stand-in and the real provider host: a vendor that drops the
 * first delete of each video, one that applies deletes late, and one that never applies them. The
 * stored outputs reach `delete` with the signed file link, so the file check proves each delete;
 * receipts carry the stack's project, stack and resource names.
 */
import * as fs from "fs";
import * as path from "path";
import { OperationResult } from "../engine";
import { countRequests } from "../provider/harness";
import { expectOk, startVideoStack, VideoStack } from "./stack-harness";

let s: VideoStack;
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
    await stop?.();
    stop = undefined;
});

/** Links valid for the whole test: the emulator runs 1440x faster than the wall clock. */
const LONG_LINKS = { urlTtlSeconds: 100_000_000 };
const three = [
    { name: "a", prompt: "one", style: "fast-svd" },
    { name: "b", prompt: "two", style: "fast-svd" },
    { name: "c", prompt: "three", style: "fast-svd" },
];

async function stackWith(options: Record<string, unknown>, config: Record<string, string> = {}) {
    ({ s, stop } = await startVideoStack([], { ...LONG_LINKS, ...options }, undefined, config));
    s.stack.setConfig("imagine:deletionLog", { value: path.join(s.dir, "audit", "deletions.jsonl") });
}
const receipts = () =>
    fs
        .readFileSync(path.join(s.dir, "audit", "deletions.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
const output = (r: OperationResult) => [r.stdout, r.stderr, ...r.diagnostics.map((d) => d.message)].join("\n");
const deletes200 = async () => countRequests(await s.emulator.stats(), /delete/, "200");

it("a vendor that acknowledges and drops the first delete of each video: destroy sends each again, and all 3 are gone", async () => {
    await stackWith({ dropFirstDelete: true });
    s.setVideos(three);
    const up = expectOk(await s.stack.up());
    const ids = ["a", "b", "c"].map((n) => String(up.outputs[`${n}Id`].value));
    const destroy = expectOk(await s.stack.destroy());
    expect(s.videos()).toEqual([]);
    expect((await s.emulator.stats()).videosStored).toBe(0);
    for (const id of ids) expect(await s.vendorStatus(id)).toBe(404);
    expect(await deletes200()).toBe(6);
    for (const id of ids)
        expect(output(destroy)).toContain(
            `video ${id}: deleted (DELETE) after 2 delete requests, confirmed: its file link answers 404`,
        );
    expect(receipts().sort((x, y) => String(x.name).localeCompare(String(y.name)))).toEqual(
        ["a", "b", "c"].map((name, i) => ({
            videoId: ids[i],
            project: "videos",
            stack: "test",
            name,
            deletedAt: expect.any(String),
            method: "DELETE",
            verification: "file-404",
            attempts: 2,
        })),
    );
});

it("a vendor that applies deletes late: destroy waits until the files are gone", async () => {
    // 1440 emulated seconds: one real second.
    await stackWith({ deleteLagSeconds: 1440 });
    s.setVideos(three.slice(0, 2));
    expectOk(await s.stack.up());
    expectOk(await s.stack.destroy());
    expect(s.videos()).toEqual([]);
    expect((await s.emulator.stats()).videosStored).toBe(0);
    expect(receipts().map((r) => r.verification)).toEqual(["file-404", "file-404"]);
});

it("a delete that never happens: destroy fails naming the video, which stays in state; the next destroy deletes it", async () => {
    await stackWith({ deleteLagSeconds: 1e12 }, { "imagine:deleteTimeoutMinutes": "0.05" });
    s.setVideos(three.slice(0, 1));
    const up = expectOk(await s.stack.up());
    const id = String(up.outputs.aId.value);
    const failed = await s.stack.destroy();
    expect(failed.ok).toBe(false);
    expect(failed.errors.join("\n")).toContain(`video ${id}: the Imagine API acknowledged its delete`);
    expect(failed.errors.join("\n")).not.toContain("signature=");
    expect(s.videos().map((v) => v.id)).toEqual([id]);
    expect(fs.existsSync(path.join(s.dir, "audit", "deletions.jsonl"))).toBe(false);

    s.emulator.configure({ deleteLagSeconds: 0 });
    expectOk(await s.stack.destroy());
    expect(s.videos()).toEqual([]);
    expect(await s.vendorStatus(id)).toBe(404);
    expect(receipts()).toEqual([
        expect.objectContaining({ videoId: id, name: "a", verification: "file-404", attempts: 1 }),
    ]);
});
