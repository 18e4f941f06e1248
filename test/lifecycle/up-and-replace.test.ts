/**
 * Lifecycle scenarios 1-3 and 6 through the engine stand-in (real program host, real provider host)
 * against the emulator over HTTP. Each engine operation starts fresh Node processes (the cost of this
 * file): the replacements of a changed prompt and of a changed image file share one `up`, with a third
 * video that changes nothing to show a replacement touches only its own video.
 */
import * as fs from "fs";
import * as path from "path";
import { countRequests } from "../provider/harness";
import { expectOk, opsOf, startVideoStack, TOKEN, VIDEO_TYPE, VideoStack } from "./stack-harness";

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 9)]);

/** The plain value of an output (secrets are `{<sig>: ..., value}` in the decrypted checkpoint). */
const plain = (x: unknown) => (typeof x === "object" && x !== null && "value" in x ? x.value : x);
const urlsOf = (s: VideoStack) => s.videos().map((v) => [plain(v.outputs.videoUrl), plain(v.outputs.thumbnailUrl)]);

/** A video no step changes: replacing the others must leave it alone. */
const OTHER = { name: "other", prompt: "A calm sea", style: "fast-svd" };

let s: VideoStack;
let stop: () => Promise<void>;
beforeAll(async () => {
    ({ s, stop } = await startVideoStack([]));
    fs.writeFileSync(path.join(s.dir, "still.png"), PNG);
    s.setVideos([
        { name: "text", prompt: "A neon city", style: "kling-1.0-pro" },
        { name: "image", prompt: "Make it move", style: "kling-1.0-pro", imagePath: path.join(s.dir, "still.png") },
        OTHER,
    ]);
});
afterAll(async () => stop());

describe("up, up again, replace, destroy", () => {
    let firstTextId: string;

    it("0. preview shows what up would create, and makes no vendor request", async () => {
        const r = expectOk(await s.stack.preview());
        expect(opsOf(r)).toEqual(["create image", "create other", "create text"]);
        expect((await s.emulator.stats()).requestsTotal).toBe(0);
        expect(s.videos()).toEqual([]);
    });

    it("1. up creates a text video and an image video, with outputs set and result URLs secret", async () => {
        const r = expectOk(await s.stack.up());
        expect(opsOf(r)).toEqual(["create image", "create other", "create text"]);
        firstTextId = String(r.outputs.textId.value);
        expect(r.outputs.textStatus).toEqual({ value: "finished", secret: false });
        expect(r.outputs.imageStatus.value).toBe("finished");
        expect(r.outputs.textUrl.secret).toBe(true);
        expect(String(r.outputs.textUrl.value)).toContain("signature=");
        const videos = s.videos();
        expect(videos.map((v) => v.id).sort()).toEqual(
            [r.outputs.imageId.value, r.outputs.otherId.value, firstTextId].sort(),
        );
        expect(videos.find((v) => v.urn.endsWith("::image"))!.outputs.imageDigest).toMatch(/^sha256:/);
        // On disk, the signed links are ciphertext and the token is nowhere.
        const raw = fs.readFileSync(path.join(s.dir, "state.json"), "utf8");
        expect(raw).not.toContain("signature=");
        expect(raw).not.toContain(TOKEN);
        expect(r.stdout + r.stderr).not.toContain(TOKEN);
        expect((await s.emulator.stats()).videosStored).toBe(3);
    });

    it("2. up again with nothing changed: no changes, and no vendor call but the refresh reads; the refresh of unchanged videos reports no change and keeps the stored links (links valid for an hour: a drift check passes)", async () => {
        const before = await s.emulator.stats();
        const links = JSON.stringify(urlsOf(s));
        const r = expectOk(await s.stack.up({ refresh: true }));
        expect(opsOf(r).filter((o) => !o.startsWith("refresh"))).toEqual(["same image", "same other", "same text"]);
        // The refresh (from refresh-and-protect.test.ts): no change, the stored links kept.
        expect(
            r.steps
                .filter((x) => x.op === "refresh" && x.type === VIDEO_TYPE)
                .map((x) => ({ name: x.name, changed: x.changed }))
                .sort((x, y) => x.name.localeCompare(y.name)),
        ).toEqual([
            { name: "image", changed: false },
            { name: "other", changed: false },
            { name: "text", changed: false },
        ]);
        expect(JSON.stringify(urlsOf(s))).toBe(links);
        expect(r.summary).not.toContain("updated");
        const after = await s.emulator.stats();
        const calls = after.requestsTotal - before.requestsTotal;
        const reads = countRequests(after, /status/) - countRequests(before, /status/);
        expect(calls).toBe(reads);
        expect(reads).toBe(3);
        const noRefresh = await s.emulator.stats();
        expectOk(await s.stack.up());
        expect((await s.emulator.stats()).requestsTotal).toBe(noRefresh.requestsTotal);
    });

    it("3. a changed prompt replaces the video: the new one exists, the old one is deleted on the vendor side; 3b. a changed image file replaces the image video", async () => {
        const oldImageId = s.videos().find((v) => v.urn.endsWith("::image"))!.id!;
        const otherId = s.videos().find((v) => v.urn.endsWith("::other"))!.id!;
        s.setVideos([
            { name: "text", prompt: "A neon city at dawn", style: "kling-1.0-pro" },
            { name: "image", prompt: "Make it move", style: "kling-1.0-pro", imagePath: path.join(s.dir, "still.png") },
            OTHER,
        ]);
        fs.writeFileSync(path.join(s.dir, "still.png"), Buffer.concat([PNG, Buffer.from("changed")]));
        const r = expectOk(await s.stack.up());
        // 3: the changed prompt.
        expect(r.steps.filter((x) => x.name === "text").map((x) => x.op)).toEqual(
            expect.arrayContaining(["create-replacement", "delete-replaced"]),
        );
        const newId = String(r.outputs.textId.value);
        expect(newId).not.toBe(firstTextId);
        expect(await s.vendorStatus(newId)).toBe(200);
        expect(await s.vendorStatus(firstTextId)).toBe(404);
        // 3b: the changed image file.
        expect(r.steps.filter((x) => x.name === "image").map((x) => x.op)).toContain("create-replacement");
        expect(await s.vendorStatus(oldImageId)).toBe(404);
        // The video whose inputs did not change is the same video.
        expect(opsOf(r)).toContain("same other");
        expect(String(r.outputs.otherId.value)).toBe(otherId);
        expect((await s.emulator.stats()).videosStored).toBe(3);
    });

    it("6. destroy deletes every video: the emulator stores no video and no byte", async () => {
        const r = expectOk(await s.stack.destroy());
        expect(opsOf(r)).toEqual(["delete image", "delete other", "delete text"]);
        expect(s.videos()).toEqual([]);
        const stats = await s.emulator.stats();
        expect(stats.videosStored).toBe(0);
        expect(stats.bytesStored).toBe(0);
    });
});
