/**
 * A fleet of real provider processes (child node processes, each with its own handlers, request
 * budget and Redis connection) on one API key and one real redis-server, deleting videos at once
 * against the emulator started with a rate limit: they stay within the limit (plus its burst)
 * together, a kill -9 of Redis mid-destroy fails nothing, and restarted, they share it again.
 */
import axios from "axios";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import Redis from "ioredis";
import { RunningEmulator, startEmulator } from "../../emulator";
import { budgetKeyPrefix } from "../../provider/budget/redis-budget";
import { countRequests } from "../provider/harness";
import { RunningRedis, startRedisServer } from "../redis-server";
import { until } from "../until";
import type { WorkerJob, WorkerOutcome } from "./worker";

const ROOT = path.resolve(__dirname, "../..");
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
    const children: ChildProcess[] = [];
    const outcomes: Promise<WorkerOutcome>[] = [];
    const ready: Promise<void>[] = [];
    for (const ids of slices) {
        const job: WorkerJob = { baseUrl: emulator.url, token: TOKEN, redisUrl, requestsPerMinute: LIMIT, ids };
        const child = spawn(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", "test/fleet/worker.ts", JSON.stringify(job)],
            {
                cwd: ROOT,
                stdio: ["pipe", "pipe", "pipe"],
            },
        );
        children.push(child);
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const lines = readline.createInterface({ input: child.stdout });
        let last = "";
        ready.push(new Promise<void>((resolve) => lines.on("line", (l) => (l === "ready" ? resolve() : (last = l)))));
        outcomes.push(
            new Promise<WorkerOutcome>((resolve, reject) =>
                child.on("close", (code) =>
                    code === 0 && last
                        ? resolve(JSON.parse(last) as WorkerOutcome)
                        : reject(new Error(`worker exited ${code}: ${stderr}`)),
                ),
            ),
        );
    }
    await Promise.all(ready);
    return { go: () => children.forEach((c) => c.stdin!.write("go\n")), done: Promise.all(outcomes) };
}

const split = (ids: string[], n: number) => Array.from({ length: n }, (_, i) => ids.filter((_, j) => j % n === i));

it("three processes on one Redis budget stay within the key's limit together; without Redis they do not", async () => {
    const ids = await seed(36);
    const before = await emulator.stats();
    const fleet = await startFleet(split(ids, 3), redis.url);
    fleet.go();
    const outcomes = await fleet.done;
    const after = await emulator.stats();
    expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
    expect(outcomes.map((o) => o.deleted)).toEqual([12, 12, 12]);
    expect(outcomes.flatMap((o) => o.warnings)).toEqual([]);
    expect(after.videosStored).toBe(0);
    expect(countRequests(after, /delete/, "429") - countRequests(before, /delete/, "429")).toBe(0);

    // The same fleet, each process on its own budget of the same figure: three times the limit.
    const more = await seed(36);
    const before2 = await emulator.stats();
    const alone = await startFleet(split(more, 3), undefined);
    alone.go();
    const outcomes2 = await alone.done;
    const after2 = await emulator.stats();
    expect(outcomes2.flatMap((o) => o.failures)).toEqual([]);
    expect(after2.videosStored).toBe(0);
    expect(countRequests(after2, /delete/, "429") - countRequests(before2, /delete/, "429")).toBeGreaterThan(0);
}, 120_000);

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
        // Each process registers its waiting deletes in the fleet's demand set once it is back.
        const demand = `${budgetKeyPrefix(TOKEN, LIMIT)}:demand`;
        const seen = new Set<string>();
        await until(
            "all three processes back on the shared budget",
            async () => {
                for (const m of await probe.zrange(demand, 0, -1).catch(() => [] as string[])) seen.add(m);
                return seen.size === 3;
            },
            20_000,
        );
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
