/**
 * Benchmarks of one API key shared by a fleet (preview environments), run from bench/scale.ts:
 *
 * - `fleet`: 200 deletes spread over 2, 5 and 10 provider instances, all in flight at once, each
 *   instance with its own budget and its own Redis connection, with and without `imagine:redisUrl`,
 *   against the emulator at 50 requests/minute strictly paced (burst 1).
 *   `ratio` = wall time / (200 / 50 minutes); `share429` = refused deletes / delete requests.
 * - `bigDestroy`: 1,000 deletes at default settings in one provider instance, all in flight at once,
 *   emulator at 50/minute; `ratio` against 1,000 / 50 minutes.
 *
 * Both run accelerated: the emulator's clockSpeed and the provider's scaledClock share one factor,
 * and the Redis budget takes its time from that clock.
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
import { seedVideos } from "./seed";

const TOKEN = "vk-benchFLEET0123456789abcdefghijklmnopqrstuvwxyzAB";
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

/** `instances` provider instances (own handlers, budget and Redis connection each) deleting `ids` at once. */
async function destroyAcross(
    emulator: RunningEmulator,
    clock: Clock,
    ids: string[],
    instances: number,
    redisUrl: string | undefined,
): Promise<{ wallMs: number; failures: number; requests: number; refused: number }> {
    const connections: Redis[] = [];
    const config: Record<string, string> = {
        "imagine:apiToken": TOKEN,
        "imagine:baseUrl": emulator.url,
        ...(redisUrl ? { "imagine:redisUrl": redisUrl } : {}),
    };
    const handlers: VideoHandlers[] = [];
    for (let i = 0; i < instances; i++) {
        const h = createHandlers({
            clock,
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
    const before = await deleteCounts(emulator);
    const start = clock.now();
    const results = await Promise.allSettled(ids.map((id, i) => handlers[i % instances].delete(id, { videoId: id })));
    const wallMs = clock.now() - start;
    const after = await deleteCounts(emulator);
    await Promise.all(connections.map(disconnect));
    return {
        wallMs,
        failures: results.filter((r) => r.status === "rejected").length,
        requests: after.total - before.total,
        refused: after.refused - before.refused,
    };
}

async function fleetRun(processes: number, useRedis: boolean, videos: number, speed: number): Promise<FleetRun> {
    let redis: RunningRedis | undefined;
    if (useRedis) redis = await startRedisServer();
    try {
        return await withEmulator({ processingSeconds: 0, credits: 100_000, clockSpeed: speed }, async (emulator) => {
            const ids = await seedVideos(emulator.url, TOKEN, videos, "fleet");
            emulator.configure({ rateLimitPerMinute: LIMIT, rateLimitBurst: 1 });
            const r = await destroyAcross(emulator, scaledClock(speed), ids, processes, redis?.url);
            return {
                processes,
                redis: useRedis,
                videos,
                ratio: round(r.wallMs / ((videos / LIMIT) * 60_000)),
                share429: round(r.refused / Math.max(1, r.requests), 4),
                failures: r.failures,
            };
        });
    } finally {
        await redis?.stop();
    }
}

export async function fleet(o: FleetOptions): Promise<FleetRun[]> {
    const videos = o.small ? 20 : 200;
    const sizes = o.small ? [2] : [2, 5, 10];
    const runs: FleetRun[] = [];
    for (const processes of sizes) {
        for (const useRedis of [true, false]) {
            runs.push(await fleetRun(processes, useRedis, videos, o.speed));
        }
    }
    return runs;
}

export async function bigDestroy(
    o: FleetOptions,
): Promise<{ videos: number; failures: number; ratio: number; share429: number; clockSpeed: number }> {
    const videos = o.small ? 50 : 1000;
    return withEmulator({ processingSeconds: 0, credits: 100_000, clockSpeed: o.speed }, async (emulator) => {
        const ids = await seedVideos(emulator.url, TOKEN, videos, "fleet");
        emulator.configure({ rateLimitPerMinute: LIMIT, rateLimitBurst: 1 });
        const r = await destroyAcross(emulator, scaledClock(o.speed), ids, 1, undefined);
        return {
            videos,
            failures: r.failures,
            ratio: round(r.wallMs / ((videos / LIMIT) * 60_000)),
            share429: round(r.refused / Math.max(1, r.requests), 4),
            clockSpeed: o.speed,
        };
    });
}

export const FLEET_TARGETS = {
    fleet: "with Redis: ratio <= 1.15, share429 <= 0.02, failures 0; without: ratio <= 1.6, failures 0",
    bigDestroy: "failures 0, ratio <= 1.15",
};

export function fleetMeets(runs: FleetRun[]): boolean {
    return runs.every((r) => r.failures === 0 && (r.redis ? r.ratio <= 1.15 && r.share429 <= 0.02 : r.ratio <= 1.6));
}

function round(v: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round(v * f) / f;
}
