/**
 * A fleet of real provider processes (child node processes, each with its own handlers, request
 * budget and Redis connection) on one API key and one real redis-server, deleting videos at once
 * against the emulator started with a rate limit: they share it, a kill -9 of Redis mid-destroy fails
 * nothing, and restarted, they share it again. The videos are deleted with their stored outputs (the
 * file link among them, as a stack's state holds them): each delete is one API request, proven by
 * the link's 404.
 */
import Redis from "ioredis";
import { budgetKeyPrefix } from "../../provider/budget/redis-budget";
import { until } from "../until";
import { fleetFixture } from "./fleet-fixture";
import { spawnWorker } from "./spawn-worker";
import type { WorkerOutcome } from "./worker";

const TOKEN = "vk-fleetTEST0123456789abcdefghijklmnopqrstuvwxyzABC";
/** The emulator's limit; the workers' budget is the same figure (the fleet's total with Redis). */
const LIMIT = 240;
/** Our bucket holds one second's worth (4); the emulator's burst adds 2 for arrival jitter on a busy machine. */
const BURST = 6;

const env = fleetFixture(TOKEN, LIMIT, BURST);

interface Fleet {
    go(): void;
    done: Promise<WorkerOutcome[]>;
}

/** Starts one worker process per slice of ids and resolves once all of them are ready. */
async function startFleet(
    slices: string[][],
    outputs: Record<string, Record<string, unknown>>,
    redisUrl: string,
    requestsPerMinute = LIMIT,
): Promise<Fleet> {
    const workers = slices.map((ids) =>
        spawnWorker({ baseUrl: env.emulator.url, token: TOKEN, redisUrl, requestsPerMinute, ids, outputs }),
    );
    await Promise.all(workers.map((w) => w.ready));
    return { go: () => workers.forEach((w) => w.go()), done: Promise.all(workers.map((w) => w.done)) };
}

const split = (ids: string[], n: number) => Array.from({ length: n }, (_, i) => ids.filter((_, j) => j % n === i));

it("three processes on one Redis budget share it: every delete goes through, none falls back to its own budget", async () => {
    // At 600 a minute (a bucket of 10): the 36 deletes still queue on the shared bucket. A database of
    // its own, so that the next test's processes meet no lease or rate of these.
    const { ids, outputs } = await env.seedWithLinks(36);
    env.emulator.configure({ rateLimitPerMinute: 600, rateLimitBurst: 12 });
    const fleet = await startFleet(split(ids, 3), outputs, `${env.redis.url}/1`, 600);
    fleet.go();
    const outcomes = await fleet.done;
    expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
    expect(outcomes.map((o) => o.deleted)).toEqual([12, 12, 12]);
    // No warning: Redis answered every take (a fallback to the local budget says so, once).
    expect(outcomes.flatMap((o) => o.warnings)).toEqual([]);
    expect((await env.emulator.stats()).videosStored).toBe(0);
    // Whether the fleet drew no 429 at a real-time rate depends on the machine's speed: the shared
    // pacing is tested on Redis's own clock in redis-budget.test.ts, the figures are the benchmark's.
}, 60_000);

it("kill -9 of redis-server mid-destroy fails no delete; restarted, every process shares it again", async () => {
    // 48 deletes, 16 a process: 6 with Redis, 6 more without it, and 36 (9 s at 4 a second) left to
    // run when it is back, far more than the 2 s a process waits at most before reconnecting.
    const { ids, outputs } = await env.seedWithLinks(48);
    const fleet = await startFleet(split(ids, 3), outputs, env.redis.url);
    const probe = new Redis(env.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    probe.on("error", () => undefined);
    try {
        fleet.go();
        await until("a few deletes", async () => (await env.emulator.stats()).videosStored <= 42);
        env.redis.kill9();
        await until("more deletes without Redis", async () => (await env.emulator.stats()).videosStored <= 36);
        await env.redis.restart();
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
        expect(outcomes.map((o) => o.deleted)).toEqual([16, 16, 16]);
        expect((await env.emulator.stats()).videosStored).toBe(0);
        for (const o of outcomes) {
            // One line when Redis went away, one when it came back; nothing else.
            expect(o.warnings).toHaveLength(2);
            expect(o.warnings[0]).toMatch(
                new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${env.redis.port} is unreachable`),
            );
            expect(o.warnings[1]).toBe(`Redis at redis://127.0.0.1:${env.redis.port} answers again.`);
        }
    } finally {
        probe.disconnect();
    }
}, 120_000);
