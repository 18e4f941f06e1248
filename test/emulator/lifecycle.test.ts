/** Processing time, clock speed, failures, both status shapes, code format, and persistence across a clean restart. */
import { call, createVideo, expectError, FakeClock, start, status, tempDir, textToVideo } from "./helpers";
import { until } from "../until";

describe("processing time and clock speed", () => {
    test("processing until created + processingSeconds (emulated), then finished with URLs", async () => {
        const clock = new FakeClock();
        const h = await start({ now: clock.now, processingSeconds: 600 });
        try {
            const id = await createVideo(h.emu);
            const first = await status(h.emu, id);
            expect(first.json.video).toEqual({
                uuid: id,
                created_at: new Date(clock.ms).toISOString(),
                status: "processing",
                url: { generation: null, thumbnail: null },
            });
            clock.advance(599);
            expect((await status(h.emu, id)).json.video.status).toBe("processing");
            clock.advance(1);
            const done = (await status(h.emu, id)).json.video;
            expect(done.status).toBe("finished");
            expect(done.url.generation).toMatch(
                new RegExp(`^${h.emu.url}/files/${id}/video\\.mp4\\?expires=\\d+&signature=[0-9a-f]{64}$`),
            );
            expect(done.url.thumbnail).toMatch(new RegExp(`^${h.emu.url}/files/${id}/thumbnail\\.png\\?`));
        } finally {
            await h.stop();
        }
    });

    test("clockSpeed 720 with the default 720 s makes a generation take about one real second", async () => {
        const h = await start({ clockSpeed: 720 });
        try {
            // Bounds that hold whatever the machine's speed: never finished within 0.9 real seconds of the
            // request (emulated time runs from the moment the vendor accepted it), always finished once
            // 1.1 real seconds have passed since the answer (792 emulated seconds > 720).
            const started = Date.now();
            const id = await createVideo(h.emu);
            const accepted = Date.now();
            let first: number | undefined;
            await until("the video to finish", async () => {
                const finished = (await status(h.emu, id)).json.video.status === "finished";
                if (finished) first ??= Date.now();
                return finished || Date.now() - accepted > 1100;
            });
            if (first !== undefined) expect(first - started).toBeGreaterThanOrEqual(900);
            expect((await status(h.emu, id)).json.video.status).toBe("finished");
        } finally {
            await h.stop();
        }
    });

    test("changing clockSpeed at run time does not make the clock jump", async () => {
        const clock = new FakeClock();
        const h = await start({ now: clock.now, processingSeconds: 100 });
        try {
            const id = await createVideo(h.emu);
            clock.advance(50);
            h.emu.configure({ clockSpeed: 10 });
            expect((await status(h.emu, id)).json.video.status).toBe("processing");
            clock.advance(4); // 40 emulated seconds: 90 in all
            expect((await status(h.emu, id)).json.video.status).toBe("processing");
            clock.advance(1.1);
            expect((await status(h.emu, id)).json.video.status).toBe("finished");
        } finally {
            await h.stop();
        }
    });

    test("finished files are written by the background timer, without any status call", async () => {
        const h = await start({ clockSpeed: 720, processingSeconds: 36 }); // 50 real ms
        try {
            await createVideo(h.emu);
            await new Promise((r) => setTimeout(r, 1500));
            const fs = await import("node:fs");
            const path = await import("node:path");
            const dirs = fs.readdirSync(path.join(h.dataDir, "videos"));
            expect(dirs).toHaveLength(1);
            expect(fs.readdirSync(path.join(h.dataDir, "videos", dirs[0])).sort()).toEqual([
                "thumbnail.png",
                "video.mp4",
            ]);
        } finally {
            await h.stop();
        }
    });
});

describe("failures", () => {
    test("failureRate 1: every video ends failed with a message", async () => {
        const clock = new FakeClock();
        const h = await start({ now: clock.now, processingSeconds: 10, failureRate: 1 });
        try {
            const id = await createVideo(h.emu);
            expect((await status(h.emu, id)).json.video.status).toBe("processing");
            clock.advance(10);
            const video = (await status(h.emu, id)).json.video;
            expect(video).toMatchObject({
                status: "failed",
                message: expect.stringContaining("generation failed"),
                url: { generation: null },
            });
        } finally {
            await h.stop();
        }
    });

    test("failPromptContains makes exactly the chosen video fail", async () => {
        const clock = new FakeClock();
        const h = await start({ now: clock.now, processingSeconds: 10, failPromptContains: "FAIL-ME" });
        try {
            const bad = await createVideo(h.emu, { prompt: "a cat FAIL-ME please" });
            const good = await createVideo(h.emu, { prompt: "a cat" });
            clock.advance(10);
            expect((await status(h.emu, bad)).json.video).toMatchObject({
                status: "failed",
                message: "generation failed: content rejected",
            });
            expect((await status(h.emu, good)).json.video.status).toBe("finished");
        } finally {
            await h.stop();
        }
    });
});

describe("status shapes and code format", () => {
    test("legacy: integer id, code 1/2/3, settings, url arrays, no video.status", async () => {
        const clock = new FakeClock();
        const h = await start({
            now: clock.now,
            processingSeconds: 10,
            statusShape: "legacy",
            failPromptContains: "boom",
        });
        try {
            const id = await createVideo(h.emu, { prompt: "a flying dinosaur", style: "fast-svd" });
            const failing = await createVideo(h.emu, { prompt: "boom" });
            const processing = (await status(h.emu, id)).json;
            expect(processing).toEqual({
                status: "success",
                video: {
                    id: 1,
                    code: 1,
                    created_at: new Date(clock.ms).toISOString(),
                    settings: { prompt: "a flying dinosaur", style_id: "fast-svd", variation: "text_to_video" },
                    url: { generation: [], thumbnail: [] },
                },
            });
            clock.advance(10);
            const finished = (await status(h.emu, id)).json.video;
            expect(finished.code).toBe(2);
            expect(finished.status).toBeUndefined();
            expect(finished.url.generation).toEqual([expect.stringContaining(`/files/${id}/video.mp4?`)]);
            expect(finished.url.thumbnail).toEqual([expect.stringContaining(`/files/${id}/thumbnail.png?`)]);
            const failed = (await status(h.emu, failing)).json.video;
            expect(failed).toMatchObject({
                id: 2,
                code: 3,
                message: "generation failed: content rejected",
                url: { generation: [] },
            });
            h.emu.configure({ statusShape: "uuid" });
            expect((await status(h.emu, id)).json.video).toMatchObject({ uuid: id, status: "finished" });
        } finally {
            await h.stop();
        }
    });

    test("codeFormat string serves code as a quoted string in every error", async () => {
        const h = await start({ codeFormat: "string" });
        try {
            expectError(await status(h.emu, "missing-id"), 404, "1104");
            expectError(await textToVideo(h.emu, { style: "nope" }), 400, "1100");
            expectError(await call(`${h.emu.url}/v2/video/x/status`), 400, "1000");
            h.emu.configure({ codeFormat: "number" });
            expectError(await status(h.emu, "missing-id"), 404, 1104);
        } finally {
            await h.stop();
        }
    });
});

describe("persistence across a clean restart", () => {
    test("videos, credits, the signing secret and the emulated clock survive stop/start", async () => {
        const dataDir = tempDir();
        let realNow = Date.parse("2025-01-01T00:00:00Z");
        const now = () => realNow;
        const first = await start({ dataDir, now, processingSeconds: 100, clockSpeed: 2, credits: 3 });
        const id = await createVideo(first.emu);
        await createVideo(first.emu);
        realNow += 20_000; // 40 emulated seconds
        const before = (await status(first.emu, id)).json.video;
        await first.stop();

        realNow += 10_000; // 20 more emulated seconds while stopped (old speed)
        const second = await start({ dataDir, now, processingSeconds: 100, clockSpeed: 4, credits: 3 });
        try {
            const after = (await status(second.emu, id)).json.video;
            expect(after).toEqual(before);
            expect((await second.emu.stats()).videosStored).toBe(2);
            realNow += 9_000; // 36 emulated seconds at speed 4: 96 in all
            expect((await status(second.emu, id)).json.video.status).toBe("processing");
            realNow += 1_000; // 100
            const done = (await status(second.emu, id)).json.video;
            expect(done.status).toBe("finished");
            expect((await call(done.url.generation)).status).toBe(200);
            expect((await textToVideo(second.emu)).status).toBe(200);
            expectError(await textToVideo(second.emu), 402, 1101);
        } finally {
            await second.stop();
        }
    });
});
