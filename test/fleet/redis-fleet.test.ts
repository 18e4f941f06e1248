/**
 * A fleet of real provider processes (child node processes, each with its own handlers, request
 * budget and Redis connection) on one API key and one real redis-server, deleting videos at once
 * against the emulator started with a rate limit: they share it, a kill -9 of Redis mid-destroy fails
 * nothing, and restarted, they share it again.
 */
import axios from "axios";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import { RunningEmulator, startEmulator } from "../../emulator";
import { budgetKeyPrefix } from "../../provider/budget/redis-budget";
import { RunningRedis, startRedisServer } from "../redis-server";
import { until } from "../until";
import { spawnWorker } from "./spawn-worker";
import type { WorkerOutcome } from "./worker";

const TOKEN = "vk-fleetTEST0123456789abcdefghijklmnopqrstuvwxyzABC";
/** The emulator's limit; the workers' budget is the same figure (the fleet's total with Redis). */
const LIMIT = 240;
/** Our bucket holds one second's worth (4); the emulator's burst adds 2 for arrival jitter on a busy machine. */
const BURST = 6;

let emulator: RunningEmulator;
let redis: RunningRedis;
let dataDir: string;

beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-fleet-"));
    emulator = await startEmulator({ dataDir, tokens: [TOKEN], processingSeconds: 0, credits: 100_000 });
    redis = await startRedisServer();
});
afterAll(async () => {
    await emulator?.stop();
    await redis?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Finished videos made with the limit off; then the limit is switched on (with a full bucket). */
async function seed(n: number): Promise<string[]> {
    emulator.configure({ rateLimitPerMinute: 0 });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
        const form = new FormData();
        form.append("prompt", `fleet ${i}`);
        form.append("style", "fast-svd");
        const r = await axios.post(`${emulator.url}/v2/video/text-to-video`, form, {
            headers: { Authorization: `Bearer ${TOKEN}` },
        });
        ids.push(r.data.id);
    }
    emulator.configure({ rateLimitPerMinute: LIMIT, rateLimitBurst: BURST });
    return ids;
}

interface Fleet {
    go(): void;
    done: Promise<WorkerOutcome[]>;
}

/** Starts one worker process per slice of ids and resolves once all of them are ready. */
async function startFleet(slices: string[][], redisUrl: string | undefined): Promise<Fleet> {
    const workers = slices.map((ids) =>
        spawnWorker({ baseUrl: emulator.url, token: TOKEN, redisUrl, requestsPerMinute: LIMIT, ids }),
    );
    await Promise.all(workers.map((w) => w.ready));
    return { go: () => workers.forEach((w) => w.go()), done: Promise.all(workers.map((w) => w.done)) };
}

const split = (ids: string[], n: number) => Array.from({ length: n }, (_, i) => ids.filter((_, j) => j % n === i));

it("three processes on one Redis budget share it: every delete goes through, none falls back to its own budget", async () => {
    const ids = await seed(36);
    const fleet = await startFleet(split(ids, 3), redis.url);
    fleet.go();
    const outcomes = await fleet.done;
    expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
    expect(outcomes.map((o) => o.deleted)).toEqual([12, 12, 12]);
    // No warning: Redis answered every take (a fallback to the local budget says so, once).
    expect(outcomes.flatMap((o) => o.warnings)).toEqual([]);
    expect((await emulator.stats()).videosStored).toBe(0);
    // Whether the fleet drew no 429 at a real-time rate depends on the machine's speed: the shared
    // pacing is tested on Redis's own clock in redis-budget.test.ts, the figures are the benchmark's.
}, 60_000);

it("kill -9 of redis-server mid-destroy fails no delete; restarted, every process shares it again", async () => {
    const ids = await seed(60);
    const fleet = await startFleet(split(ids, 3), redis.url);
    const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    probe.on("error", () => undefined);
    try {
        fleet.go();
        await until("a fifth of the deletes", async () => (await emulator.stats()).videosStored <= 48);
        redis.kill9();
        await until("more deletes without Redis", async () => (await emulator.stats()).videosStored <= 36);
        await redis.restart();
        // Each process takes from the shared bucket again once it is back: its lease in the fleet's set of
        // live processes (kept for seconds after each take, so a poll cannot miss it) shows it.
        const live = `${budgetKeyPrefix(TOKEN)}:live`;
        const seen = new Set<string>();
        await until("all three processes back on the shared budget", async () => {
            for (const m of await probe.zrange(live, 0, -1).catch(() => [] as string[])) seen.add(m);
            return seen.size === 3;
        });
        const outcomes = await fleet.done;
        expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
        expect(outcomes.map((o) => o.deleted)).toEqual([20, 20, 20]);
        expect((await emulator.stats()).videosStored).toBe(0);
        for (const o of outcomes) {
            // One line when Redis went away, one when it came back; nothing else.
            expect(o.warnings).toHaveLength(2);
            expect(o.warnings[0]).toMatch(new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redis.port} is unreachable`));
            expect(o.warnings[1]).toBe(`Redis at redis://127.0.0.1:${redis.port} answers again.`);
        }
    } finally {
        probe.disconnect();
    }
}, 120_000);
