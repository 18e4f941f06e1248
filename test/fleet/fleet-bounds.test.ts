/**
 * The fleet budget across real machines, with real child processes on one real redis-server: a
 * process whose clock is off (run under `faketime`, +20 s and +1 h) leaves the shared bucket on
 * Redis's clock; a 3600-s Retry-After fails every delete of the fleet fast instead of hanging it;
 * status reads keep their share while another process holds a backlog of 2,000 deletes, which adds
 * no listener per waiting call. No assertion on durations: orders and counts only.
 */
import * as http from "http";
import Redis from "ioredis";
import { budgetKeyPrefix } from "../../provider/budget/redis-budget";
import { until } from "../until";
import { fleetFixture } from "./fleet-fixture";
import { spawnWorker } from "./spawn-worker";

const TOKEN = "vk-boundsTEST0123456789abcdefghijklmnopqrstuvwxyzAB";
/** The emulator's limit and every worker's budget: 20 a second, which 2,000 queued deletes still far exceed. */
const LIMIT = 1200;

/** Our bucket holds one second's worth (20); the emulator's burst adds 2 for arrival jitter on a busy machine. */
const env = fleetFixture(TOKEN, LIMIT, 22);
const seed = (n: number) => env.seed(n);

/** The bucket's stored times, against Redis's clock now (ms). */
async function bucketTimes(url: string): Promise<{ redisNow: number; times: number[] }> {
    const c = new Redis(url);
    try {
        const [s, us] = await c.time();
        const b = await c.hgetall(`${budgetKeyPrefix(TOKEN)}:bucket`);
        return {
            redisNow: Number(s) * 1000 + Number(us) / 1000,
            times: ["ts", "pause", "avail"].filter((k) => b[k] !== undefined).map((k) => Number(b[k])),
        };
    } finally {
        c.disconnect();
    }
}

it("processes whose clocks are +20 s and +1 h off do not move the fleet's bucket: it runs on Redis's clock", async () => {
    const url = `${env.redis.url}/1`;
    // With their file links (as a stack's outputs hold them): one API request a delete.
    const { ids, outputs } = await env.seedWithLinks(30);
    const skews = [undefined, "+20s", "+1h"];
    const workers = skews.map((faketime, i) =>
        spawnWorker(
            {
                baseUrl: env.emulator.url,
                token: TOKEN,
                redisUrl: url,
                requestsPerMinute: LIMIT,
                ids: ids.filter((_, j) => j % 3 === i),
                outputs,
            },
            { faketime },
        ),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const outcomes = await Promise.all(workers.map((w) => w.done));
    expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
    expect(outcomes.map((o) => o.deleted)).toEqual([10, 10, 10]);
    // A skewed process says once that its clock is off, and that it is harmless; the other nothing.
    expect(outcomes[0].warnings).toEqual([]);
    for (const [o, seconds] of [
        [outcomes[1], /(19|20|21) s/],
        [outcomes[2], /(3599|3600|3601) s/],
    ] as const) {
        expect(o.warnings).toHaveLength(1);
        expect(o.warnings[0]).toMatch(/clock is \d+ s ahead of the clock of Redis .* harmless/);
        expect(o.warnings[0]).toMatch(seconds);
    }
    // Nothing a skewed process did put a time of its own into the bucket.
    const { redisNow, times } = await bucketTimes(url);
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) expect(t).toBeLessThanOrEqual(redisNow + 61_000);
    expect((await env.emulator.stats()).videosStored).toBe(0);
}, 90_000);

it("a 3600-s Retry-After fails every delete of the fleet fast, naming the wait, instead of hanging destroy", async () => {
    // A vendor that refuses everything for an hour.
    let requests = 0;
    const vendor = http.createServer((req, res) => {
        requests++;
        res.writeHead(429, { "content-type": "application/json", "retry-after": "3600" });
        res.end(JSON.stringify({ status: "error", code: 1202, error: "Too Many Requests", message: "slow down" }));
    });
    await new Promise<void>((r) => vendor.listen(0, "127.0.0.1", () => r()));
    const baseUrl = `http://127.0.0.1:${(vendor.address() as { port: number }).port}`;
    try {
        // Two processes sharing Redis, accelerated 60 times (a 60-s pause is one second).
        const workers = [0, 1].map((i) =>
            spawnWorker({
                baseUrl,
                token: TOKEN,
                redisUrl: `${env.redis.url}/3`,
                requestsPerMinute: 60,
                speed: 60,
                ids: Array.from({ length: 20 }, (_, j) => `video-${i}-${j}`),
                config: { "imagine:deleteTimeoutMinutes": "0.5" },
            }),
        );
        await Promise.all(workers.map((w) => w.ready));
        workers.forEach((w) => w.go());
        const outcomes = await Promise.all(workers.map((w) => w.done));
        expect(outcomes.map((o) => o.deleted)).toEqual([0, 0]);
        const failures = outcomes.flatMap((o) => o.failures);
        expect(failures).toHaveLength(40);
        for (const f of failures) expect(f).toMatch(/asked this API key to wait 3600 s/);
        // A refusal is not retried into: a handful of requests in all, not one per delete per attempt.
        expect(requests).toBeLessThanOrEqual(10);
    } finally {
        vendor.close();
    }
}, 60_000);

it("status reads keep their share while another process holds 2,000 queued deletes, with no listener per call", async () => {
    const url = `${env.redis.url}/4`;
    const reads = await seed(10);
    // Ids of videos that do not exist: each delete is one request ("already gone"), and there are 2,000.
    const backlog = Array.from({ length: 2000 }, (_, i) => `gone-${i}`);
    const deletes = spawnWorker({
        baseUrl: env.emulator.url,
        token: TOKEN,
        redisUrl: url,
        requestsPerMinute: LIMIT,
        ids: backlog,
    });
    const reader = spawnWorker({
        baseUrl: env.emulator.url,
        token: TOKEN,
        redisUrl: url,
        requestsPerMinute: LIMIT,
        ids: [],
        reads,
    });
    await Promise.all([deletes.ready, reader.ready]);
    try {
        deletes.go();
        const deleteRequests = async () =>
            Object.entries((await env.emulator.stats()).requests)
                .filter(([route]) => /delete/.test(route))
                .reduce((n, [, by]) => n + Object.values(by).reduce((a, b) => a + b, 0), 0);
        const start = await deleteRequests();
        await until("the backlog draining", async () => (await deleteRequests()) >= start + 10);
        reader.go();
        const read = await reader.done;
        expect(read.failures).toEqual([]);
        expect(read.read).toBe(10);
        // With strict priority the reads would wait for the 2,000 deletes; they had one grant in four.
        expect((await deleteRequests()) - start).toBeLessThan(500);
    } finally {
        await deletes.kill();
    }
}, 60_000);

it("a process with 2,000 deletes waiting on the Redis budget adds no listener per call", async () => {
    // The same backlog, all started before the connection is ready, run to the end at a high rate.
    env.emulator.configure({ rateLimitPerMinute: 0 });
    const backlog = Array.from({ length: 2000 }, (_, i) => `gone-more-${i}`);
    const w = spawnWorker({
        baseUrl: env.emulator.url,
        token: TOKEN,
        redisUrl: `${env.redis.url}/5`,
        requestsPerMinute: 60_000,
        ids: backlog,
        config: { "imagine:verifyDeletes": "off" },
    });
    await w.ready;
    w.go();
    const outcome = await w.done;
    expect(outcome.failures).toEqual([]);
    expect(outcome.deleted).toBe(2000);
    expect(outcome.processWarnings).toEqual([]);
}, 60_000);
