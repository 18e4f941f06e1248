/**
 * Benchmarks of one API key shared by a fleet (preview environments), run from bench/scale.ts:
 *
 * - `fleet`: 200 deletes spread over 2, 5 and 10 provider instances, all in flight at once, each
 *   instance with its own budget and its own Redis connection, with and without `imagine:redisUrl`,
 *   against the emulator at 50 requests/minute strictly paced (burst 1).
 *   `ratio` = wall time / (200 / 50 minutes); `share429` = refused deletes / delete requests.
 * - `bigDestroy` (and `bigDestroyNoLinks`): 1,000 deletes at default settings in one provider
 *   instance, all in flight at once, emulator at 50/minute; `ratio` against the requests they need.
 * - `fleetSkew`, `statusShare`, `fairness`: one clock off, status reads during a backlog, equal shares.
 *
 * Every video is deleted with the outputs a real stack holds (its file link), unless said otherwise.
 * All run accelerated: the emulator's clockSpeed and the provider's scaledClock share one factor, and
 * the Redis budget keeps Redis's clock, scaling its rates by that factor.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type Redis from "ioredis";
import { EmulatorOptions, RunningEmulator, startEmulator } from "../emulator";
import { Clock, scaledClock } from "../provider/core/clock";
import { createHandlers, VideoHandlers } from "../provider/methods/handlers";
import { connectRedis, disconnect } from "../provider/budget/redis-connection";
import { RunningRedis, startRedisServer } from "../test/redis-server";
import { withFileLinks } from "./destroy-verification";
import { seedVideos } from "./seed";

/** One video as a state holds it: its id and its outputs (the file link among them, or not). */
export interface StoredVideo {
    id: string;
    props: Record<string, unknown>;
}

export const TOKEN = "vk-benchFLEET0123456789abcdefghijklmnopqrstuvwxyzAB";
const LIMIT = 50;

export interface FleetRun {
    processes: number;
    redis: boolean;
    videos: number;
    ratio: number;
    share429: number;
    failures: number;
}

export interface FleetOptions {
    small: boolean;
    /** Emulated seconds per real second. */
    speed: number;
}

async function withEmulator<T>(
    options: Partial<EmulatorOptions>,
    run: (emulator: RunningEmulator) => Promise<T>,
): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-fleet-"));
    const emulator = await startEmulator({ dataDir: path.join(dir, "data"), tokens: [TOKEN], ...options });
    try {
        return await run(emulator);
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Delete requests answered, and those refused with 429, by the emulator so far. */
async function deleteCounts(emulator: RunningEmulator): Promise<{ total: number; refused: number }> {
    let total = 0;
    let refused = 0;
    for (const [route, byStatus] of Object.entries((await emulator.stats()).requests)) {
        if (!/delete/.test(route)) continue;
        for (const [status, n] of Object.entries(byStatus)) {
            total += n;
            if (status === "429") refused += n;
        }
    }
    return { total, refused };
}

/** What one provider instance runs on: its clock (a skewed one, say) and extra stack config. */
export interface Instance {
    clock: Clock;
    config?: Record<string, string>;
}

/** Provider instances (own handlers, budget and Redis connection each), configured and ready. */
export async function instancesOn(
    emulator: RunningEmulator,
    instances: Instance[],
    redisUrl: string | undefined,
    speed: number,
): Promise<{ handlers: VideoHandlers[]; close: () => Promise<void> }> {
    const connections: Redis[] = [];
    const handlers: VideoHandlers[] = [];
    for (const instance of instances) {
        const config: Record<string, string> = {
            "imagine:apiToken": TOKEN,
            "imagine:baseUrl": emulator.url,
            ...(redisUrl ? { "imagine:redisUrl": redisUrl } : {}),
            ...instance.config,
        };
        const h = createHandlers({
            clock: instance.clock,
            speed,
            log: () => undefined,
            env: {},
            redis: (url, warn) => {
                const c = connectRedis(url, warn);
                connections.push(c);
                return c;
            },
        });
        await h.configure({ config: { get: (k: string) => config[k] } });
        handlers.push(h);
    }
    return { handlers, close: () => Promise.all(connections.map(disconnect)).then(() => undefined) };
}

export interface DestroyRun {
    wallMs: number;
    failures: number;
    requests: number;
    refused: number;
    /** Each instance's deletes done when the first instance had done all of its own. */
    doneAtFirstFinish: number[];
}

/** Instances deleting `videos` at once, round robin. */
export async function destroyAcross(
    emulator: RunningEmulator,
    clock: Clock,
    videos: StoredVideo[],
    instances: number | Instance[],
    redisUrl: string | undefined,
    speed: number,
): Promise<DestroyRun> {
    const list = typeof instances === "number" ? Array.from({ length: instances }, () => ({ clock })) : instances;
    const { handlers, close } = await instancesOn(emulator, list, redisUrl, speed);
    const n = list.length;
    const done = new Array<number>(n).fill(0);
    const total = done.map((_, i) => videos.filter((_, j) => j % n === i).length);
    let doneAtFirstFinish: number[] = [];
    const before = await deleteCounts(emulator);
    const start = clock.now();
    const results = await Promise.allSettled(
        videos.map((v, i) =>
            handlers[i % n].delete(v.id, v.props).finally(() => {
                done[i % n]++;
                if (!doneAtFirstFinish.length && done[i % n] === total[i % n]) doneAtFirstFinish = [...done];
            }),
        ),
    );
    const wallMs = clock.now() - start;
    const after = await deleteCounts(emulator);
    await close();
    return {
        wallMs,
        failures: results.filter((r) => r.status === "rejected").length,
        requests: after.total - before.total,
        refused: after.refused - before.refused,
        doneAtFirstFinish,
    };
}

/** `n` finished videos with the outputs a real stack holds after `up` (file link included), or ids only. */
export async function stackVideos(emulator: RunningEmulator, n: number, links = true): Promise<StoredVideo[]> {
    const ids = await seedVideos(emulator.url, TOKEN, n, "fleet");
    return links ? withFileLinks(emulator.url, TOKEN, ids) : ids.map((id) => ({ id, props: { videoId: id } }));
}

/** Runs `run` on a fresh emulator at `speed`, limited to LIMIT a minute (burst 1) once `prepare` has seeded it. */
export async function limitedEmulator<S, T>(
    speed: number,
    prepare: (emulator: RunningEmulator) => Promise<S>,
    run: (emulator: RunningEmulator, seeded: S) => Promise<T>,
): Promise<T> {
    return withEmulator({ processingSeconds: 0, credits: 100_000, clockSpeed: speed }, async (emulator) => {
        const seeded = await prepare(emulator);
        emulator.configure({ rateLimitPerMinute: LIMIT, rateLimitBurst: 1 });
        return run(emulator, seeded);
    });
}

/** Runs `run` on a fresh redis-server (or none), stopped afterwards. */
export async function withRedis<T>(useRedis: boolean, run: (url: string | undefined) => Promise<T>): Promise<T> {
    const redis: RunningRedis | undefined = useRedis ? await startRedisServer() : undefined;
    try {
        return await run(redis?.url);
    } finally {
        await redis?.stop();
    }
}

/** wall time against `requests` at LIMIT a minute; the refused share of delete requests. */
export function figures(r: DestroyRun, requests: number): { ratio: number; share429: number } {
    return {
        ratio: round(r.wallMs / ((requests / LIMIT) * 60_000)),
        share429: round(r.refused / Math.max(1, r.requests), 4),
    };
}

async function fleetRun(processes: number, useRedis: boolean, videos: number, speed: number): Promise<FleetRun> {
    return withRedis(useRedis, (url) =>
        limitedEmulator(
            speed,
            (emulator) => stackVideos(emulator, videos),
            async (emulator, stored) => {
                const r = await destroyAcross(emulator, scaledClock(speed), stored, processes, url, speed);
                return { processes, redis: useRedis, videos, ...figures(r, videos), failures: r.failures };
            },
        ),
    );
}

/** `fleet`: each row is reported as it finishes (a run cut short keeps what it measured). */
export async function fleet(o: FleetOptions, report: (row: FleetRun) => void = () => undefined): Promise<FleetRun[]> {
    const videos = o.small ? 20 : 200;
    const sizes = o.small ? [2] : [2, 5, 10];
    const runs: FleetRun[] = [];
    for (const processes of sizes) {
        for (const useRedis of [true, false]) {
            runs.push(await fleetRun(processes, useRedis, videos, o.speed));
            report(runs[runs.length - 1]);
        }
    }
    return runs;
}

/**
 * `bigDestroy`: 1,000 deletes in one instance, all in flight at once, at 50/min, with the outputs a
 * stack holds (file link: one API request per video); `links` false (`bigDestroyNoLinks`): without a
 * link, each delete proven by a status read: two API requests per video, its lower bound.
 */
export async function bigDestroy(
    o: FleetOptions,
    links = true,
): Promise<{ videos: number; failures: number; ratio: number; share429: number; clockSpeed: number }> {
    const videos = o.small ? 50 : 1000;
    return limitedEmulator(
        o.speed,
        (emulator) => stackVideos(emulator, videos, links),
        async (emulator, stored) => {
            const r = await destroyAcross(emulator, scaledClock(o.speed), stored, 1, undefined, o.speed);
            return { videos, failures: r.failures, ...figures(r, videos * (links ? 1 : 2)), clockSpeed: o.speed };
        },
    );
}

export const FLEET_TARGETS = {
    fleet: "with Redis: ratio <= 1.15, share429 <= 0.02, failures 0; without: ratio <= 1.6, share429 <= 0.10, failures 0",
    bigDestroy: "failures 0, ratio <= 1.15",
    bigDestroyNoLinks: "failures 0, ratio <= 1.15 (against two requests per video)",
    fleetSkew: "every row: ratio <= 1.15, failures 0",
    statusShare: "maxStatusWaitSeconds <= 15, failures 0",
    fairness: "every row: minShare / maxShare >= 0.8",
};

export function fleetMeets(runs: FleetRun[]): boolean {
    return runs.every(
        (r) =>
            r.failures === 0 && (r.redis ? r.ratio <= 1.15 && r.share429 <= 0.02 : r.ratio <= 1.6 && r.share429 <= 0.1),
    );
}

export function round(v: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round(v * f) / f;
}
