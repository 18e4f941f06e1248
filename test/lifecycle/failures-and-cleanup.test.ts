/**
 * Lifecycle scenarios 4, 5, 7, 8 and 9 through the engine stand-in against the emulator: videos
 * deleted outside Pulumi, failed and timed-out generations, adoption, removal, a wrong token. Each
 * operation starts a program host and/or a provider host (over a second of CPU each): scenarios that can
 * go on from one another's stack share it (4 and 4b; 7, 8 and 9), and no test ends with a destroy whose
 * only purpose is cleanup (each test's emulator and temp folder are removed after it).
 */
import axios from "axios";
import * as fs from "fs";
import * as path from "path";
import { expectOk, opsOf, startVideoStack, TOKEN, VideoStack } from "./stack-harness";

let s: VideoStack;
let stop: () => Promise<void>;
beforeEach(async () => {
    ({ s, stop } = await startVideoStack([]));
});
afterEach(async () => stop());

/** The names of the videos in the state, sorted (the state lists them in the order their creates finished). */
const names = () =>
    s
        .videos()
        .map((v) => v.urn.split("::").pop())
        .sort();
const deleteOutside = (id: string) =>
    axios.delete(`${s.emulator.url}/v2/video/delete/${id}`, { headers: { Authorization: `Bearer ${TOKEN}` } });

it("4. a video deleted outside Pulumi: refresh drops it, and destroy succeeds, even without a refresh when a video is already gone", async () => {
    s.setVideos([
        { name: "a", prompt: "one", style: "fast-svd" },
        { name: "b", prompt: "two", style: "fast-svd" },
        { name: "c", prompt: "three", style: "fast-svd" },
    ]);
    const up = expectOk(await s.stack.up());
    await deleteOutside(String(up.outputs.aId.value));
    const refresh = expectOk(await s.stack.refresh());
    expect(names()).toEqual(["b", "c"]);
    expect(refresh.steps.filter((x) => x.name === "a").map((x) => x.op)).toContain("delete");
    // (4b) c goes too, after the refresh: destroy meets it already gone, with no refresh to learn it.
    await deleteOutside(String(up.outputs.cId.value));
    expectOk(await s.stack.destroy());
    expect(s.videos()).toEqual([]);
    expect(await s.vendorStatus(String(up.outputs.bId.value))).toBe(404);
    expect((await s.emulator.stats()).videosStored).toBe(0);
});

it("5. a generation that fails is recorded; the next up replaces it and deletes the failed video", async () => {
    s.emulator.configure({ failPromptContains: "[reject]" });
    s.setVideos([
        { name: "bad", prompt: "a scene [reject]", style: "kling-1.0-pro" },
        { name: "good", prompt: "fine", style: "kling-1.0-pro" },
    ]);
    const up = await s.stack.up();
    expect(up.ok).toBe(false);
    expect(up.errors.join("\n")).toContain("the generation failed");
    const bad = s.videos().find((v) => v.urn.endsWith("::bad"))!;
    expect(bad.id).toEqual(expect.any(String));
    expect(bad.outputs.status).toBe("failed");
    expect(await s.vendorStatus(bad.id!)).toBe(200);

    s.emulator.configure({ failPromptContains: "" });
    const retry = expectOk(await s.stack.up());
    expect(retry.steps.filter((x) => x.name === "bad").map((x) => x.op)).toContain("create-replacement");
    expect(await s.vendorStatus(bad.id!)).toBe(404);
    expect((await s.emulator.stats()).videosStored).toBe(2);
});

it("5b. a generation that times out is recorded; destroy deletes it", async () => {
    s.emulator.configure({ processingSeconds: 1_000_000 });
    s.setVideos([{ name: "slow", prompt: "a very long film", style: "kling-1.0-pro", timeoutMinutes: 0.02 }]);
    const up = await s.stack.up();
    expect(up.ok).toBe(false);
    expect(up.errors.join("\n")).toContain("deadline passed");
    const slow = s.videos()[0];
    expect(slow.outputs.status).toBe("processing");
    expect(await s.vendorStatus(slow.id!)).toBe(200);
    expectOk(await s.stack.destroy());
    expect(await s.vendorStatus(slow.id!)).toBe(404);
    expect((await s.emulator.stats()).videosStored).toBe(0);
});

it("5c. the next up waits again for a video whose earlier wait timed out, without generating a new one", async () => {
    s.emulator.configure({ clockSpeed: 1 });
    s.setVideos([{ name: "slow", prompt: "a long film", style: "kling-1.0-pro", timeoutMinutes: 0.02 }]);
    expect((await s.stack.up()).ok).toBe(false);
    const id = s.videos()[0].id;
    s.emulator.configure({ clockSpeed: 100_000 });
    const r = expectOk(await s.stack.up());
    expect(opsOf(r)).toEqual(["update slow"]);
    expect(r.outputs.slowId.value).toBe(id);
    expect(r.outputs.slowStatus.value).toBe("finished");
    expect((await s.emulator.stats()).requests["POST /v2/video/text-to-video"]).toEqual({ "200": 1 });
});

it("5d. when one video fails, a video still being made beside it is waited for and recorded, not lost", async () => {
    // 720 emulated seconds at 90x: the slow one takes 8 s, longer than the program's grace after a
    // failure (5 s); the bad one is refused at once.
    s.emulator.configure({ clockSpeed: 90 });
    s.setVideos([
        { name: "slow", prompt: "a slow one", style: "kling-1.0-pro" },
        { name: "bad", prompt: "refused", style: "no-such-style" },
    ]);
    const up = await s.stack.up();
    expect(up.ok).toBe(false);
    expect(up.errors.join("\n")).toContain("style");
    expect(names()).toEqual(["slow"]);
    expect(s.videos()[0].outputs.status).toBe("finished");
    // Recorded under its own id: the one video the vendor holds is the one in the state.
    expect(await s.vendorStatus(s.videos()[0].id!)).toBe(200);
    expect((await s.emulator.stats()).videosStored).toBe(1);
});

it("7, 8 and 9 on one stack: an adopted video is not regenerated; removing a resource deletes only its video; a wrong token fails up and destroy clearly, state unchanged; the right token then destroys all, the adopted video too", async () => {
    // 7. adoptVideoId: a video made outside Pulumi (by a script) is adopted, not regenerated.
    const form = new FormData();
    form.append("prompt", "made by a script");
    form.append("style", "fast-svd");
    const made = await axios.post(`${s.emulator.url}/v2/video/text-to-video`, form, {
        headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const id = made.data.id as string;
    s.setVideos([
        { name: "keep", prompt: "stay", style: "fast-svd" },
        { name: "drop", prompt: "go", style: "fast-svd" },
        { name: "adopted", adoptVideoId: id },
    ]);
    const generations = async () => (await s.emulator.stats()).requests["POST /v2/video/text-to-video"];
    expect(await generations()).toEqual({ "200": 1 }); // the script's
    const up = expectOk(await s.stack.up());
    expect(up.outputs.adoptedId.value).toBe(id);
    expect(await generations()).toEqual({ "200": 3 }); // and keep's and drop's: none for the adopted video

    // 8. Removing a resource from the program deletes only that video.
    s.setVideos([
        { name: "keep", prompt: "stay", style: "fast-svd" },
        { name: "adopted", adoptVideoId: id },
    ]);
    const r = expectOk(await s.stack.up());
    expect(opsOf(r)).toEqual(["delete drop", "same adopted", "same keep"]);
    expect(await s.vendorStatus(String(up.outputs.dropId.value))).toBe(404);
    expect(await s.vendorStatus(String(up.outputs.keepId.value))).toBe(200);
    expect(await s.vendorStatus(id)).toBe(200);

    // 9. A wrong token: up and destroy fail clearly and leave the state unchanged.
    const statePath = path.join(s.dir, "state.json");
    const state = () => JSON.stringify(s.stack.decryptedState().deployment.resources);
    const before = state();
    const wrong = "vk-wrongTOKEN000000000000000000000000000000000000";
    s.stack.setConfig("imagine:apiToken", { value: wrong, secret: true });
    s.setVideos([
        { name: "keep", prompt: "stay", style: "fast-svd" },
        { name: "adopted", adoptVideoId: id },
        { name: "b", prompt: "two", style: "fast-svd" },
    ]);
    const failedUp = await s.stack.up();
    expect(failedUp.ok).toBe(false);
    expect(failedUp.errors.join("\n")).toMatch(
        /API token is missing or not valid.*imagine:apiToken.*IMAGINE_API_TOKEN/s,
    );
    expect(state()).toBe(before);

    const destroy = await s.stack.destroy();
    expect(destroy.ok).toBe(false);
    expect(destroy.errors.join("\n")).toContain("imagine:apiToken");
    expect(state()).toBe(before);
    expect((await s.emulator.stats()).videosStored).toBe(2);
    const everything =
        failedUp.stdout +
        failedUp.stderr +
        destroy.stdout +
        destroy.stderr +
        failedUp.errors.join("") +
        destroy.errors.join("") +
        fs.readFileSync(statePath, "utf8");
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(TOKEN);

    // The right token then destroys everything, the adopted video too (7).
    s.stack.setConfig("imagine:apiToken", { value: TOKEN, secret: true });
    expectOk(await s.stack.destroy());
    expect(s.videos()).toEqual([]);
    expect(await s.vendorStatus(id)).toBe(404);
    expect((await s.emulator.stats()).videosStored).toBe(0);
});
