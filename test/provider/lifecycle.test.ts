/**
 * The provider's methods over real HTTP against the emulator: create (text and image), waiting,
 * partial failures, refresh, and every delete case. No mocks of our own code.
 */
import axios from "axios";
import * as fs from "fs";
import * as path from "path";
import { until } from "../until";
import { countRequests, createFailure, Harness, PROVIDER, startHarness, TOKEN } from "./harness";

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const text = {
    prompt: "A futuristic cityscape at night with neon lights",
    style: "kling-1.0-pro",
    aspectRatio: "16:9",
    __provider: PROVIDER,
};

let h: Harness;
beforeEach(async () => {
    h = await startHarness();
});
afterEach(async () => {
    await h.stop();
});

describe("create", () => {
    it("generates a text video, waits for it, and returns signed links that work", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        expect(outs).toMatchObject({
            videoId: id,
            status: "finished",
            prompt: text.prompt,
            style: "kling-1.0-pro",
            aspectRatio: "16:9",
        });
        expect(outs.createdAt).toEqual(expect.any(String));
        expect(String(outs.videoUrl)).toMatch(/signature=/);
        expect((await axios.get(String(outs.videoUrl), { responseType: "arraybuffer" })).status).toBe(200);
        expect((await axios.get(String(outs.thumbnailUrl), { responseType: "arraybuffer" })).status).toBe(200);
        expect((await h.emulator.stats()).videosStored).toBe(1);
        expect(h.logs.some((l) => l.includes(`video ${id}: generation started`))).toBe(true);
    });

    it("uploads the image for image to video and records its digest", async () => {
        fs.writeFileSync(path.join(h.dataDir, "still.png"), PNG);
        const p = await h.handlers();
        const { inputs, failures } = await p.check(
            {},
            { prompt: "make it move", style: "kling-1.0-pro", imagePath: "still.png", __provider: PROVIDER },
        );
        expect(failures).toEqual([]);
        const { outs } = await p.create(inputs);
        expect(outs.status).toBe("finished");
        expect(outs.imageDigest).toMatch(/^sha256:/);
        expect(countRequests(await h.emulator.stats(), /image-to-video/, "200")).toBe(1);
    });

    it("returns at once when told not to wait, and a later update waits for the video", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create({ ...text, extraParams: { seed: "42" }, waitForCompletion: false });
        expect(outs.status).toBe("processing");
        const { outs: later } = await p.update(id, outs, {
            ...text,
            extraParams: { seed: "42" },
            waitForCompletion: true,
        });
        expect(later.status).toBe("finished");
        expect(later.videoUrl).toEqual(expect.any(String));
    });

    it("records a failed generation as a partial failure carrying the id, outputs and the vendor's reason", async () => {
        h.emulator.configure({ failPromptContains: "forbidden" });
        const p = await h.handlers();
        const err = await createFailure(p, { ...text, prompt: "a forbidden scene" });
        expect(err.id).toEqual(expect.any(String));
        expect(err.properties).toMatchObject({ videoId: err.id, status: "failed", __provider: PROVIDER });
        expect(err.reasons[0]).toContain("generation failed");
        expect(err.message).toContain("pulumi destroy");
        await p.delete(err.id, err.properties);
        expect((await h.emulator.stats()).videosStored).toBe(0);
    });

    it("records a video whose wait times out, and destroy deletes it", async () => {
        h.emulator.configure({ processingSeconds: 100000 });
        const p = await h.handlers();
        const err = await createFailure(p, { ...text, timeoutMinutes: 0.005 });
        expect(err.properties).toMatchObject({ videoId: err.id, status: "processing", __provider: PROVIDER });
        expect(err.message).toContain("deadline passed");
        await p.delete(err.id, err.properties);
        expect((await h.emulator.stats()).videosStored).toBe(0);
    });

    it("records a video when the network fails after the vendor accepted it", async () => {
        const p = await h.handlers({ "imagine:deleteTimeoutMinutes": "0.01" });
        h.emulator.configure({ processingSeconds: 100000 });
        const { id, outs } = await p.create({ ...text, waitForCompletion: false });
        // The wait resumes through update; the emulator now resets every connection.
        h.emulator.configure({ faultReset: 1 });
        let thrown: { id?: string; properties?: Record<string, unknown> } = {};
        try {
            await p.update(id, outs, { ...text, timeoutMinutes: 0.01 });
        } catch (e) {
            thrown = e as typeof thrown;
        }
        expect(thrown.id).toBe(id);
        expect(thrown.properties?.__provider).toBe(PROVIDER);
        h.emulator.configure({ faultReset: 0 });
        await p.delete(id, outs);
        expect((await h.emulator.stats()).videosStored).toBe(0);
    });

    it.each([
        ["a 500", { fault500: 1 }],
        ["a dropped connection", { faultReset: 1 }],
    ])(
        "after %s on the generation request, does not repeat it and says how to find a stray video",
        async (_what, fault) => {
            const p = await h.handlers();
            h.emulator.configure(fault);
            const err = (await createFailure(p, text)) as unknown as { name: string; message: string; id?: string };
            h.emulator.configure({ fault500: 0, faultReset: 0 });
            expect(err.name).toBe("ImagineGenerationUncertainError");
            expect(err.id).toBeUndefined();
            expect(err.message).toContain("may have accepted this generation");
            expect(err.message).toContain("adoptVideoId");
            expect(err.message).not.toContain("run the command again");
            expect(countRequests(await h.emulator.stats(), /to-video/)).toBe(1);
        },
    );

    it("fails without recording anything when the vendor refuses the generation (no credits)", async () => {
        h.emulator.configure({ credits: 0 });
        const p = await h.handlers();
        const err = (await createFailure(p, text)) as { message: string; id?: string };
        expect(err.id).toBeUndefined();
        expect(err.message).toContain("not enough credits");
        expect(err.message).toContain("Top up");
    });

    it("adopts an existing video without generating, and refuses an unknown one", async () => {
        const p = await h.handlers();
        const { id } = await p.create({ ...text, waitForCompletion: false });
        const adopted = await p.create({ adoptVideoId: id, __provider: PROVIDER });
        expect(adopted.id).toBe(id);
        expect(countRequests(await h.emulator.stats(), /to-video/)).toBe(1);
        const err = (await createFailure(p, { adoptVideoId: "no-such-video", __provider: PROVIDER })) as {
            message: string;
            id?: string;
        };
        expect(err.id).toBeUndefined();
        expect(err.message).toContain('adoptVideoId: the Imagine API knows no video "no-such-video"');
    });
});

describe("read (refresh)", () => {
    it("maps the vendor status into outputs and returns the inputs", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create({ ...text, waitForCompletion: false });
        await until("the emulator to finish the video", async () => {
            const r = await axios.get(`${h.emulator.url}/v2/video/${id}/status`, {
                headers: { Authorization: `Bearer ${TOKEN}` },
            });
            return (r.data as { video?: { status?: string } }).video?.status === "finished";
        });
        const read = await p.read(id, outs);
        expect(read.id).toBe(id);
        expect(read.props).toMatchObject({ videoId: id, status: "finished" });
        expect(read.inputs).toEqual({
            prompt: text.prompt,
            style: text.style,
            aspectRatio: text.aspectRatio,
            waitForCompletion: false,
        });
    });

    it("returns an empty id for a video deleted outside Pulumi", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        await axios.delete(`${h.emulator.url}/v2/video/delete/${id}`, {
            headers: { Authorization: `Bearer ${TOKEN}` },
        });
        expect((await p.read(id, outs)).id).toBe("");
    });
});

describe("delete", () => {
    it("counts a video that is already gone as deleted", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        await p.delete(id, outs);
        await expect(p.delete(id, outs)).resolves.toBeUndefined();
        expect(countRequests(await h.emulator.stats(), /delete/, "404")).toBe(1);
    });

    it("waits for a video the vendor will not delete while it is processing", async () => {
        h.emulator.configure({ deleteWhileProcessing: "reject" });
        const p = await h.handlers();
        const { id, outs } = await p.create({ ...text, waitForCompletion: false });
        await p.delete(id, outs);
        const stats = await h.emulator.stats();
        expect(countRequests(stats, /delete/, "409")).toBeGreaterThanOrEqual(1);
        expect(countRequests(stats, /delete/, "200")).toBe(1);
        expect(stats.videosStored).toBe(0);
    });

    it("falls back to POST when DELETE is not allowed", async () => {
        h.emulator.configure({ deleteMethods: ["POST"] });
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        await p.delete(id, outs);
        const stats = await h.emulator.stats();
        expect(countRequests(stats, /^DELETE .*delete/, "405")).toBe(1);
        expect(countRequests(stats, /^POST .*delete/, "200")).toBe(1);
        expect(stats.videosStored).toBe(0);
    });

    it.each([
        ["rate limited (429)", { fault429: 1 }, "429"],
        ["failing (500, HTML body)", { fault500: 1 }, "500"],
        ["unavailable (503)", { fault503: 1 }, "503"],
        ["dropping connections", { faultReset: 1 }, "reset"],
    ])("retries while the vendor is %s, then deletes", async (_what, fault, status) => {
        // Short backoff (the policy's own timing is retry.test.ts's): the retries, not the waits, are the point.
        const p = await h.handlers({}, { backoff: { baseDelayMs: 20, maxDelayMs: 100 } });
        const { id, outs } = await p.create(text);
        h.emulator.configure(fault);
        const done = p.delete(id, outs);
        await until(
            "the vendor to refuse a delete",
            async () => countRequests(await h.emulator.stats(), /delete/, status) >= 1,
        );
        h.emulator.configure({ fault429: 0, fault500: 0, fault503: 0, faultReset: 0 });
        await done;
        const stats = await h.emulator.stats();
        expect(countRequests(stats, /delete/, status)).toBeGreaterThanOrEqual(1);
        expect(stats.videosStored).toBe(0);
    });

    it("fails at once on a wrong token, saying what to fix, and keeps the video", async () => {
        const good = await h.handlers();
        const { id, outs } = await good.create(text);
        const bad = await h.handlers({ "imagine:apiToken": "vk-wrongTOKEN" });
        const api = async () => countRequests(await h.emulator.stats(), /\/v2\//);
        const before = await api();
        const err = await bad.delete(id, outs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).toContain("token is missing or not valid");
        expect(err?.message).toContain("imagine:apiToken");
        expect(err?.message).not.toContain("vk-wrongTOKEN");
        // One API request (the stored link is asked first, at storage, before the delete is sent).
        expect((await api()) - before).toBe(1);
        expect((await h.emulator.stats()).videosStored).toBe(1);
    });

    it("gives up at the delete deadline with the last error", async () => {
        const p = await h.handlers({ "imagine:deleteTimeoutMinutes": "0.02" });
        const { id, outs } = await p.create(text);
        h.emulator.configure({ fault503: 1 });
        const err = await p.delete(id, outs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.name).toBe("ImagineTimeoutError");
        expect(err?.message).toContain("HTTP 503");
        expect((await h.emulator.stats()).videosStored).toBe(1);
    });
});

describe("documented variants", () => {
    it("falls back between status URLs, remembers the one that works, and still sees a deleted video as gone", async () => {
        h.emulator.configure({ disableStatusRoutes: ["current"] });
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        expect(outs.status).toBe("finished");
        let stats = await h.emulator.stats();
        // The disabled form is no route at all: the emulator counts it under "GET *".
        expect(countRequests(stats, /^GET \*/, "404")).toBe(1);
        expect(countRequests(stats, /^GET \/v2\/video\/status\/:id/, "200")).toBeGreaterThanOrEqual(1);
        await axios.delete(`${h.emulator.url}/v2/video/delete/${id}`, {
            headers: { Authorization: `Bearer ${TOKEN}` },
        });
        expect((await p.read(id, outs)).id).toBe("");
        stats = await h.emulator.stats();
        expect(countRequests(stats, /^GET \*/, "404")).toBe(1);
        expect(countRequests(stats, /^GET \/v2\/video\/status\/:id/, "404")).toBe(1);
    });

    it("reaches the assets form when the other two are not served", async () => {
        h.emulator.configure({ disableStatusRoutes: ["current", "deprecated"] });
        const p = await h.handlers();
        const { outs } = await p.create(text);
        expect(outs.status).toBe("finished");
        expect(countRequests(await h.emulator.stats(), /assets/, "200")).toBeGreaterThanOrEqual(1);
    });

    it("reads the legacy payload shape (no status word, url arrays)", async () => {
        h.emulator.configure({ statusShape: "legacy" });
        const p = await h.handlers();
        const { outs } = await p.create(text);
        expect(outs.status).toBe("finished");
        expect(String(outs.videoUrl)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*signature=/);
        h.emulator.configure({ failPromptContains: "doomed" });
        const err = await createFailure(p, { ...text, prompt: "doomed" });
        expect(err.properties.status).toBe("failed");
    });

    it("parses error codes sent as strings", async () => {
        h.emulator.configure({ codeFormat: "string" });
        const p = await h.handlers({ "imagine:apiToken": "vk-wrongTOKEN" });
        const err = (await createFailure(p, text)) as unknown as { name: string; vendorCode: number };
        expect(err.name).toBe("ImagineAuthError");
        expect(err.vendorCode).toBe(1001);
    });

    it("explains a base URL that answers something other than the Imagine API", async () => {
        const p = await h.handlers({ "imagine:baseUrl": `${h.emulator.url}/__emulator/health/x` });
        const err = (await createFailure(p, text)) as { message: string };
        expect(err.message).toContain("imagine:baseUrl");
    });
});

describe("check and diff", () => {
    it("never call the vendor", async () => {
        const p = await h.handlers();
        await p.check({}, text);
        await p.check({}, { prompt: "", style: "x" });
        await p.diff("id", { ...text, videoId: "id", status: "finished" }, { ...text, prompt: "other" });
        expect((await h.emulator.stats()).requestsTotal).toBe(0);
    });

    it("report a missing token before anything is created", async () => {
        const p = await h.handlers({ "imagine:apiToken": "" });
        await expect(p.check({}, text)).rejects.toThrow("IMAGINE_API_TOKEN");
        expect((await h.emulator.stats()).requestsTotal).toBe(0);
    });
});
