/**
 * Lifecycle scenarios 1-3 and 6 through the engine stand-in (real program host, real provider host)
 * against the emulator over HTTP.
 */
import * as fs from "fs";
import * as path from "path";
import { countRequests } from "../provider/harness";
import { expectOk, opsOf, startVideoStack, TOKEN, VideoStack } from "./stack-harness";

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 9)]);

let s: VideoStack;
let stop: () => Promise<void>;
beforeAll(async () => {
    ({ s, stop } = await startVideoStack([]));
    fs.writeFileSync(path.join(s.dir, "still.png"), PNG);
    s.setVideos([
        { name: "text", prompt: "A neon city", style: "kling-1.0-pro" },
        { name: "image", prompt: "Make it move", style: "kling-1.0-pro", imagePath: path.join(s.dir, "still.png") },
    ]);
});
afterAll(async () => stop());

describe("up, up again, replace, destroy", () => {
    let firstTextId: string;

    it("0. preview shows what up would create, and makes no vendor request", async () => {
        const r = expectOk(await s.stack.preview());
        expect(opsOf(r)).toEqual(["create image", "create text"]);
        expect((await s.emulator.stats()).requestsTotal).toBe(0);
        expect(s.videos()).toEqual([]);
    });

    it("1. up creates a text video and an image video, with outputs set and result URLs secret", async () => {
        const r = expectOk(await s.stack.up());
        expect(opsOf(r)).toEqual(["create image", "create text"]);
        firstTextId = String(r.outputs.textId.value);
        expect(r.outputs.textStatus).toEqual({ value: "finished", secret: false });
        expect(r.outputs.imageStatus.value).toBe("finished");
        expect(r.outputs.textUrl.secret).toBe(true);
        expect(String(r.outputs.textUrl.value)).toContain("signature=");
        const videos = s.videos();
        expect(videos.map((v) => v.id).sort()).toEqual([r.outputs.imageId.value, firstTextId].sort());
        expect(videos.find((v) => v.urn.endsWith("::image"))!.outputs.imageDigest).toMatch(/^sha256:/);
        // On disk, the signed links are ciphertext and the token is nowhere.
        const raw = fs.readFileSync(path.join(s.dir, "state.json"), "utf8");
        expect(raw).not.toContain("signature=");
        expect(raw).not.toContain(TOKEN);
        expect(r.stdout + r.stderr).not.toContain(TOKEN);
        expect((await s.emulator.stats()).videosStored).toBe(2);
    });

    it("2. up again with nothing changed: no changes, and no vendor call but the refresh reads", async () => {
        const before = await s.emulator.stats();
        const r = expectOk(await s.stack.up({ refresh: true }));
        expect(opsOf(r).filter((o) => !o.startsWith("refresh"))).toEqual(["same image", "same text"]);
        const after = await s.emulator.stats();
        const calls = after.requestsTotal - before.requestsTotal;
        const reads = countRequests(after, /status/) - countRequests(before, /status/);
        expect(calls).toBe(reads);
        expect(reads).toBe(2);
        const noRefresh = await s.emulator.stats();
        expectOk(await s.stack.up());
        expect((await s.emulator.stats()).requestsTotal).toBe(noRefresh.requestsTotal);
    });

    it("3. a changed prompt replaces the video: the new one exists, the old one is deleted on the vendor side", async () => {
        s.setVideos([
            { name: "text", prompt: "A neon city at dawn", style: "kling-1.0-pro" },
            { name: "image", prompt: "Make it move", style: "kling-1.0-pro", imagePath: path.join(s.dir, "still.png") },
        ]);
        const r = expectOk(await s.stack.up());
        expect(r.steps.filter((x) => x.name === "text").map((x) => x.op)).toEqual(
            expect.arrayContaining(["create-replacement", "delete-replaced"]),
        );
        expect(opsOf(r)).toContain("same image");
        const newId = String(r.outputs.textId.value);
        expect(newId).not.toBe(firstTextId);
        expect(await s.vendorStatus(newId)).toBe(200);
        expect(await s.vendorStatus(firstTextId)).toBe(404);
        expect((await s.emulator.stats()).videosStored).toBe(2);
    });

    it("3b. a changed image file replaces the image video", async () => {
        const oldId = s.videos().find((v) => v.urn.endsWith("::image"))!.id!;
        fs.writeFileSync(path.join(s.dir, "still.png"), Buffer.concat([PNG, Buffer.from("changed")]));
        const r = expectOk(await s.stack.up());
        expect(r.steps.filter((x) => x.name === "image").map((x) => x.op)).toContain("create-replacement");
        expect(await s.vendorStatus(oldId)).toBe(404);
    });

    it("6. destroy deletes every video: the emulator stores no video and no byte", async () => {
        const r = expectOk(await s.stack.destroy());
        expect(opsOf(r)).toEqual(["delete image", "delete text"]);
        expect(s.videos()).toEqual([]);
        const stats = await s.emulator.stats();
        expect(stats.videosStored).toBe(0);
        expect(stats.bytesStored).toBe(0);
    });
});
