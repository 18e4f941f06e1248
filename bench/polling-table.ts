/**
 * Benchmark scenarios of the status-check schedule (run from bench/scale.ts):
 * - `pollingTable`: one video each of 0.5, 1, 3, 12 and 25 minutes at default settings: status
 *   requests and how long after it was done the provider noticed it;
 * - `pollingLearning`: two batches of the same style in one provider process: what the second batch
 *   saves once the first has taught the process how long the style takes.
 * Each measurement runs against its own emulator whose clock runs `speed` times faster than the
 * wall clock, with the provider on a clock accelerated by the same factor (as `polling` does).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../emulator";
import { scaledClock } from "../provider/core/clock";
import { createHandlers, VideoHandlers } from "../provider/methods/handlers";

const TOKEN = "vk-benchPOLLING0123456789abcdefghijklmnopqrstuvwxyz";

export interface PollingRow {
    generationMinutes: number;
    statusRequests: number;
    detectionLagSeconds: number;
}

export interface LearningRow {
    generationMinutes: number;
    style: string;
    videosPerBatch: number;
    /** Means per video, first batch (nothing learned yet) then second batch (the same style). */
    firstStatusRequests: number;
    secondStatusRequests: number;
    firstDetectionLagSeconds: number;
    secondDetectionLagSeconds: number;
    /** Status requests saved per video in the second batch, and seconds of lag saved. */
    statusRequestsSaved: number;
    detectionLagSavedSeconds: number;
}

export const POLLING_MINUTES = [0.5, 1, 3, 12, 25];
export const LEARNING_MINUTES = [1, 3, 12];

/** The table's target: lag at most max(15 s, 25% of the generation time); at most 30 requests at 12 minutes. */
export function pollingRowMeetsTarget(r: PollingRow): boolean {
    return (
        r.detectionLagSeconds <= Math.max(15, 0.25 * r.generationMinutes * 60) &&
        (r.generationMinutes !== 12 || r.statusRequests <= 30)
    );
}

/**
 * The learning target: the second batch is still noticed within max(15 s, 25%) and costs at most one
 * status request more per video (a fast style's dense window may add one; a slow style's saves many).
 */
export function learningRowMeetsTarget(r: LearningRow): boolean {
    return (
        r.secondDetectionLagSeconds <= Math.max(15, 0.25 * r.generationMinutes * 60) &&
        r.secondStatusRequests <= r.firstStatusRequests + 1
    );
}

interface Run {
    emulator: RunningEmulator;
    p: VideoHandlers;
    /** The emulator's time now, read from the provider's clock (no request: no transit in the figure). */
    emulatedNow: () => number;
}

async function withEmulator<T>(speed: number, minutes: number, run: (r: Run) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-polling-"));
    const emulator = await startEmulator({
        dataDir: path.join(dir, "data"),
        tokens: [TOKEN],
        processingSeconds: minutes * 60,
        clockSpeed: speed,
        credits: 1000,
    });
    try {
        const clock = scaledClock(speed);
        // Default settings: only the token and the emulator's URL.
        const p = createHandlers({ clock, log: () => undefined, env: {} });
        const config: Record<string, string> = { "imagine:apiToken": TOKEN, "imagine:baseUrl": emulator.url };
        await p.configure({ config: { get: (k: string) => config[k] } });
        const offset = await clockOffset(emulator, clock);
        return await run({ emulator, p, emulatedNow: () => clock.now() + offset });
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The emulator's clock minus the provider's (both run at the same speed): from the quickest of a few
 * reads, taken at the midpoint of the read.
 */
async function clockOffset(emulator: RunningEmulator, clock: { now(): number }): Promise<number> {
    let best = { span: Infinity, offset: 0 };
    for (let i = 0; i < 5; i++) {
        const before = clock.now();
        const emulated = Date.parse((await emulator.stats()).emulatedNow);
        const after = clock.now();
        if (after - before < best.span) best = { span: after - before, offset: emulated - (before + after) / 2 };
    }
    return best.offset;
}

const statusRequests = async (emulator: RunningEmulator) =>
    Object.entries((await emulator.stats()).requests)
        .filter(([route]) => /status/.test(route))
        .reduce((n, [, by]) => n + Object.values(by).reduce((m, c) => m + c, 0), 0);

/** Creates `count` videos of `style` at once and waits for them: mean status requests and lag per video. */
async function batch({ emulator, p, emulatedNow }: Run, minutes: number, style: string, count: number) {
    const before = await statusRequests(emulator);
    const lags = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
            const { outs } = await p.create({ prompt: `a ${minutes}-minute video ${i}`, style, __provider: "bench" });
            const noticedAt = emulatedNow();
            if (outs.status !== "finished") throw new Error(`pollingTable: video ended ${String(outs.status)}`);
            return (noticedAt - (Date.parse(String(outs.createdAt)) + minutes * 60_000)) / 1000;
        }),
    );
    const requests = (await statusRequests(emulator)) - before;
    return { requests: requests / count, lagSeconds: lags.reduce((a, b) => a + b, 0) / count };
}

/** `pollingTable`: one row after the other (side by side, their start-ups would stall each other's clocks). */
export async function pollingTable(opts: PollingOptions): Promise<PollingRow[]> {
    const rows: PollingRow[] = [];
    for (const minutes of POLLING_MINUTES) {
        rows.push(
            await withEmulator(speedFor(minutes, opts), minutes, async (r) => {
                const { requests, lagSeconds } = await batch(r, minutes, "kling-1.0-pro", 1);
                return { generationMinutes: minutes, statusRequests: requests, detectionLagSeconds: round(lagSeconds) };
            }),
        );
    }
    return rows;
}

/** `pollingLearning`: per generation time, two batches of one style in one provider process, one after the other. */
export async function pollingLearning(opts: PollingOptions): Promise<LearningRow[]> {
    const videosPerBatch = opts.small ? 2 : 5;
    const rows: LearningRow[] = [];
    for (const minutes of LEARNING_MINUTES) {
        rows.push(
            await withEmulator(speedFor(minutes, opts), minutes, async (r) => {
                const style = minutes < 5 ? "fast-svd" : "kling-1.0-pro";
                const first = await batch(r, minutes, style, videosPerBatch);
                const second = await batch(r, minutes, style, videosPerBatch);
                return {
                    generationMinutes: minutes,
                    style,
                    videosPerBatch,
                    firstStatusRequests: round(first.requests),
                    secondStatusRequests: round(second.requests),
                    firstDetectionLagSeconds: round(first.lagSeconds),
                    secondDetectionLagSeconds: round(second.lagSeconds),
                    statusRequestsSaved: round(first.requests - second.requests),
                    detectionLagSavedSeconds: round(first.lagSeconds - second.lagSeconds),
                };
            }),
        );
    }
    return rows;
}

export interface PollingOptions {
    small: boolean;
    /** Clock speed at full size (default 30: a stall of 10 ms on a busy machine is 0.3 s of lag). */
    speed?: number;
}

/**
 * Clock speed for a generation time: `speed` at full size (the 25-minute row takes 50 s at 30x); at
 * the small size short generations run at 60x and long ones in about 3 s.
 */
function speedFor(minutes: number, opts: PollingOptions): number {
    return opts.small ? Math.max(60, (minutes * 60) / 3) : (opts.speed ?? 30);
}

function round(v: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round(v * f) / f;
}
