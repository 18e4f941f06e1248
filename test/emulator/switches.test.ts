/** Run-time switches: admin config routes, rate limit, latency, each injected fault, and the stats counters. */
import http from "node:http";
import {
    auth,
    call,
    createVideo,
    expectError,
    FakeClock,
    OTHER_KEY,
    start,
    status,
    textToVideo,
    type Harness,
} from "./helpers";

let h: Harness;
const clock = new FakeClock();
beforeEach(async () => {
    h = await start({ now: clock.now });
});
afterEach(async () => {
    await h.stop();
});

/** One raw request; resolves with the status, or with "reset" when the socket closes without a response. */
function raw(path: string, timeoutMs = 3000): Promise<number | "reset" | "timeout"> {
    const url = new URL(h.emu.url);
    return new Promise((resolve) => {
        const req = http.get({ host: url.hostname, port: url.port, path, headers: auth(), agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.setTimeout(timeoutMs, () => {
            resolve("timeout");
            req.destroy();
        });
        req.on("error", () => resolve("reset"));
    });
}

describe("admin routes", () => {
    test("health, config GET/POST (validated), no token needed, not counted as vendor traffic", async () => {
        expect((await call(`${h.emu.url}/__emulator/health`)).json).toEqual({ status: "ok" });
        const config = await call(`${h.emu.url}/__emulator/config`);
        expect(config.json).toMatchObject({
            processingSeconds: 720,
            statusShape: "uuid",
            deleteMethods: ["DELETE", "POST"],
            credits: 1000,
        });
        const changed = await call(`${h.emu.url}/__emulator/config`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ statusShape: "legacy", latencyMs: 5 }),
        });
        expect(changed.status).toBe(200);
        expect(changed.json).toMatchObject({ statusShape: "legacy", latencyMs: 5 });
        expect((await call(`${h.emu.url}/__emulator/config`)).json.statusShape).toBe("legacy");
        for (const bad of [
            { statusShape: "round" },
            { nope: 1 },
            { failureRate: 2 },
            { deleteMethods: ["PUT"] },
            { credits: "ten" },
        ]) {
            const answer = await call(`${h.emu.url}/__emulator/config`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify(bad),
            });
            expectError(answer, 400, 1100);
        }
        expect(() => h.emu.configure({ clockSpeed: -1 })).toThrow(/clockSpeed/);
        const stats = await h.emu.stats();
        expect(stats.requestsTotal).toBe(0);
        expect(stats.requests).toEqual({});
        expect(stats.adminRequestsTotal).toBeGreaterThanOrEqual(9);
    });

    test("stats count vendor requests by route pattern and status code", async () => {
        const id = await createVideo(h.emu);
        await status(h.emu, id);
        await status(h.emu, id);
        await status(h.emu, "missing");
        await call(`${h.emu.url}/no/such/route`);
        const stats = await h.emu.stats();
        expect(stats.requests).toEqual({
            "POST /v2/video/text-to-video": { "200": 1 },
            "GET /v2/video/:id/status": { "200": 2, "404": 1 },
            "GET *": { "404": 1 },
        });
        expect(stats.requestsTotal).toBe(5);
        expect(stats.videosStored).toBe(1);
        const viaHttp = (await call(`${h.emu.url}/__emulator/stats`)).json;
        expect(viaHttp).toMatchObject({ videosStored: 1, requestsTotal: 5, bytesStored: 0 });
    });
});

describe("rate limit", () => {
    test("N requests per minute per key, then 429/1202 with Retry-After; refills in emulated time", async () => {
        h.emu.configure({ rateLimitPerMinute: 3 });
        for (let i = 0; i < 3; i++) expectError(await status(h.emu, "x"), 404, 1104);
        const limited = await status(h.emu, "x");
        expectError(limited, 429, 1202);
        expect(limited.headers.get("retry-after")).toBe("20");
        expectError(await textToVideo(h.emu), 429, 1202);
        expectError(await status(h.emu, "x", OTHER_KEY), 404, 1104); // another key has its own bucket
        clock.advance(19);
        const still = await status(h.emu, "x");
        expectError(still, 429, 1202);
        expect(Number(still.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        clock.advance(1.5);
        expectError(await status(h.emu, "x"), 404, 1104);
    });

    test("rateLimitBurst caps the bucket: with 1, requests are strictly paced", async () => {
        h.emu.configure({ rateLimitPerMinute: 60, rateLimitBurst: 1 });
        expectError(await status(h.emu, "x"), 404, 1104);
        const limited = await status(h.emu, "x");
        expectError(limited, 429, 1202);
        expect(limited.headers.get("retry-after")).toBe("1");
        clock.advance(1.01);
        expectError(await status(h.emu, "x"), 404, 1104);
        expectError(await status(h.emu, "x"), 429, 1202);
    });

    test("with a fast clock, Retry-After is still whole seconds of at least 1", async () => {
        h.emu.configure({ rateLimitPerMinute: 1 });
        expect((await textToVideo(h.emu)).status).toBe(200);
        const limited = await status(h.emu, "x");
        expect(limited.status).toBe(429);
        expect(limited.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    });
});

describe("latency", () => {
    test("latencyMs delays every vendor request", async () => {
        // The added latency is a floor; the bound without it leaves 1.5 s for a loaded machine's stalls.
        h.emu.configure({ latencyMs: 2000 });
        const started = Date.now();
        await status(h.emu, "x");
        expect(Date.now() - started).toBeGreaterThanOrEqual(1990);
        h.emu.configure({ latencyMs: 0 });
        const again = Date.now();
        await status(h.emu, "x");
        expect(Date.now() - again).toBeLessThan(1500);
    });
});

describe("faults", () => {
    test("fault429: 429/1202 with Retry-After", async () => {
        h.emu.configure({ fault429: 1 });
        const answer = await textToVideo(h.emu);
        expectError(answer, 429, 1202);
        expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect((await h.emu.stats()).videosStored).toBe(0);
    });

    test("fault500: plain HTTP 500 with a non-JSON body", async () => {
        h.emu.configure({ fault500: 1 });
        const answer = await status(h.emu, "x");
        expect(answer.status).toBe(500);
        expect(answer.json).toBeUndefined();
        expect(answer.text).toContain("500 Internal Server Error");
    });

    test("fault503: 503/1200 body", async () => {
        h.emu.configure({ fault503: 1 });
        expectError(await status(h.emu, "x"), 503, 1200);
    });

    test("faultReset: the socket closes without any response", async () => {
        h.emu.configure({ faultReset: 1 });
        expect(await raw("/v2/video/x/status")).toBe("reset");
        expect((await h.emu.stats()).requests["GET /v2/video/:id/status"]).toEqual({ reset: 1 });
        h.emu.configure({ faultReset: 0 });
        expect(await raw("/v2/video/x/status")).toBe(404);
    });

    test("faultHang: held for hangSeconds then dropped; stop() does not wait for hung requests", async () => {
        h.emu.configure({ faultHang: 1, hangSeconds: 0.5 });
        const started = Date.now();
        expect(await raw("/v2/video/x/status")).toBe("reset");
        expect(Date.now() - started).toBeGreaterThanOrEqual(450);
        h.emu.configure({ hangSeconds: 600 });
        const pending = raw("/v2/video/x/status", 20_000);
        expect(await Promise.race([pending, new Promise((r) => setTimeout(() => r("still hanging"), 500))])).toBe(
            "still hanging",
        );
        const stopStarted = Date.now();
        await h.stop();
        expect(Date.now() - stopStarted).toBeLessThan(2000);
        expect(await pending).toBe("reset");
        h = await start({ now: clock.now }); // for afterEach
    });

    test("seed: the same seed draws the same faults again; another seed, others", async () => {
        const draw = async (seed: number) => {
            h.emu.configure({ fault500: 0.5, seed });
            const seen: number[] = [];
            for (let i = 0; i < 24; i++) seen.push((await status(h.emu, "x")).status);
            return seen.join(",");
        };
        const first = await draw(7);
        expect(first).toMatch(/500/);
        expect(first).toMatch(/404/);
        expect(await draw(7)).toBe(first);
        expect(await draw(8)).not.toBe(first);
    });

    test("fault probabilities add up: 0.5 + 0.5 gives only injected answers, both kinds", async () => {
        h.emu.configure({ fault500: 0.5, fault503: 0.5 });
        const seen = new Set<number>();
        for (let i = 0; i < 60; i++) seen.add((await status(h.emu, "x")).status);
        expect([...seen].sort()).toEqual([500, 503]);
        h.emu.configure({ fault500: 0, fault503: 0 });
        expect((await status(h.emu, "x")).status).toBe(404);
    });

    test("faults hit vendor routes only: admin routes stay healthy", async () => {
        h.emu.configure({ fault500: 1 });
        expect((await call(`${h.emu.url}/__emulator/health`)).status).toBe(200);
        expect((await status(h.emu, "x")).status).toBe(500);
    });
});
