/**
 * Benchmark (not a test): how close the provider runs to the request rate the API allows.
 * Drives the provider's lifecycle functions as the provider host calls them (many at once, one
 * process, one shared budget) against the emulator over HTTP, and writes bench/results.json.
 *
 *   npm run bench                 # full size (about 2 minutes)
 *   npm run bench -- --small      # the small size `npm test` runs (about 20 seconds)
 *   npm run bench -- --out FILE   # write the JSON elsewhere
 *   npm run bench -- --only fanout  # one scenario (figures of the others are not written);
 *                                   # a comma-separated list runs several (--only fleet,fairness)
 *   npm run bench -- --polling-speed 60  # clock speed of pollingTable/pollingLearning (default 30)
 *   npm run bench -- --only cliDelete --cli-delete-speed 60  # the imagine-video CLI (default speed 60)
 */
import axios from "axios";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as pulumi from "@pulumi/pulumi";
import { EmulatorOptions, RunningEmulator, startEmulator } from "imagine-api-emulator";
import { Clock, scaledClock, systemClock } from "../provider/core/clock";
import { createHandlers, VideoHandlers } from "../provider/methods/handlers";
import { startVideoStack, VIDEO_TYPE } from "../test/lifecycle/stack-harness";
import { destroyVerification, withFileLinks } from "./destroy-verification";
import {
    LearningRow,
    learningRowMeetsTarget,
    pollingLearning,
    pollingRowMeetsTarget,
    PollingRow,
    pollingTable,
} from "./polling-table";
import { imageQueue } from "./image-queue";
import { bigDestroy, fleet, FLEET_TARGETS, FleetRun, fleetMeets } from "./fleet";
import { cliDelete } from "./cli-delete";
import { countRequests } from "./request-count";
import { fairness, fleetSkew, statusShare } from "./fleet-shares";
import { pool } from "./pool";
import { seedVideos } from "./seed";
import { LEDGER_TARGET, ledgerScale, LedgerScaleRow, ledgerRowMeetsTarget } from "./ledger-scale";

const TOKEN = "vk-benchSCALE0123456789abcdefghijklmnopqrstuvwxyzAB";
const { values: args } = parseArgs({
    options: {
        small: { type: "boolean", default: false },
        out: { type: "string" },
        only: { type: "string" },
        "fanout-speed": { type: "string" },
        "polling-speed": { type: "string" },
        "fleet-speed": { type: "string" },
        "big-destroy-speed": { type: "string" },
        "cli-delete-speed": { type: "string" },
    },
});
const SMALL = args.small === true;
const OUT = args.out ?? path.join(__dirname, "results.json");
const ROOT = path.resolve(__dirname, "..");

interface Env {
    emulator: RunningEmulator;
    dir: string;
}

async function withEmulator<T>(options: Partial<EmulatorOptions>, run: (env: Env) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-"));
    const emulator = await startEmulator({ dataDir: path.join(dir, "data"), tokens: [TOKEN], ...options });
    try {
        return await run({ emulator, dir });
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function handlersFor(url: string, clock: Clock, config: Record<string, string>): Promise<VideoHandlers> {
    const h = createHandlers({ clock, log: () => undefined, env: {} });
    const all: Record<string, string> = { "imagine:apiToken": TOKEN, "imagine:baseUrl": url, ...config };
    await h.configure({ config: { get: (k: string) => all[k] } });
    return h;
}

const count = countRequests;

/** `destroy` and `destroyOverBudget`: N deletes, 16 in flight, emulator at 600/min with 20 ms latency. */
async function destroy(providerBudget: number) {
    const n = SMALL ? 20 : 200;
    const allowed = 600;
    return withEmulator({ processingSeconds: 0, credits: 100_000 }, async ({ emulator }) => {
        // The outputs a state holds after `up` (file link included): deletes are verified as in a real destroy.
        const videos = await withFileLinks(emulator.url, TOKEN, await seedVideos(emulator.url, TOKEN, n));
        emulator.configure({ rateLimitPerMinute: allowed, rateLimitBurst: allowed / 60, latencyMs: 20 });
        const before = (await emulator.stats()).requests;
        const p = await handlersFor(emulator.url, systemClock, {
            "imagine:requestsPerMinute": String(providerBudget),
            "imagine:deleteTimeoutMinutes": "10",
        });
        const start = Date.now();
        const failures = await pool(videos, 16, (v) => p.delete(v.id, v.props));
        const wallSeconds = (Date.now() - start) / 1000;
        const after = await emulator.stats();
        const lowerBoundSeconds = n / (allowed / 60);
        return {
            videos: n,
            inFlight: 16,
            emulatorLimitPerMinute: allowed,
            providerBudgetPerMinute: providerBudget,
            wallSeconds: round(wallSeconds),
            lowerBoundSeconds: round(lowerBoundSeconds),
            ratio: round(wallSeconds / lowerBoundSeconds),
            failures,
            server429: count(after.requests, /delete/, "429") - count(before, /delete/, "429"),
            videosLeft: after.videosStored,
        };
    });
}

/** `naiveDestroy`: the same deletes as single requests without retry (a `curl` in a command resource). */
async function naiveDestroy() {
    const n = SMALL ? 20 : 200;
    return withEmulator({ processingSeconds: 0, credits: 100_000 }, async ({ emulator }) => {
        const ids = await seedVideos(emulator.url, TOKEN, n);
        emulator.configure({ rateLimitPerMinute: 600, rateLimitBurst: 10, latencyMs: 20 });
        const start = Date.now();
        const failures = await pool(ids, 16, async (id) => {
            const r = await axios.delete(`${emulator.url}/v2/video/delete/${id}`, {
                headers: { Authorization: `Bearer ${TOKEN}` },
                validateStatus: () => true,
            });
            if (r.status !== 200) throw new Error(String(r.status));
        });
        return {
            videos: n,
            failures,
            wallSeconds: round((Date.now() - start) / 1000),
            videosLeft: (await emulator.stats()).videosStored,
        };
    });
}

/** `polling`: one 12-minute generation with the provider's default polling, on one accelerated clock. */
async function polling() {
    const speed = SMALL ? 240 : 60;
    return withEmulator({ processingSeconds: 720, clockSpeed: speed }, async ({ emulator }) => {
        const p = await handlersFor(emulator.url, scaledClock(speed), {});
        const { outs } = await p.create({
            prompt: "a twelve-minute video",
            style: "kling-1.0-pro",
            __provider: "bench",
        });
        const returnedAt = Date.parse((await emulator.stats()).emulatedNow);
        const doneAt = Date.parse(String(outs.createdAt)) + 720_000;
        const stats = await emulator.stats();
        return {
            generationMinutes: 12,
            statusRequests: count(stats.requests, /status/),
            detectionLagSeconds: round((returnedAt - doneAt) / 1000),
            clockSpeed: speed,
        };
    });
}

/** `fanout`: 50 videos created at once under 50 requests/minute (emulator and budget), 12-minute generations. */
async function fanout() {
    const n = SMALL ? 10 : 50;
    const speed = Number(args["fanout-speed"] ?? (SMALL ? 240 : 20));
    const limit = 50;
    return withEmulator(
        { processingSeconds: 720, clockSpeed: speed, rateLimitPerMinute: limit, rateLimitBurst: 1, credits: 100_000 },
        async ({ emulator }) => {
            const clock = scaledClock(speed);
            const p = await handlersFor(emulator.url, clock, { "imagine:requestsPerMinute": String(limit) });
            const startEmulated = Date.parse((await emulator.stats()).emulatedNow);
            const start = clock.now();
            const created: Record<string, unknown>[] = [];
            const results = await Promise.allSettled(
                Array.from({ length: n }, (_, i) =>
                    p
                        .create({ prompt: `fan-out video ${i}`, style: "kling-1.0-pro", __provider: "bench" })
                        .then((r) => created.push(r.outs)),
                ),
            );
            const wallSeconds = (clock.now() - start) / 1000;
            const lastDone = Math.max(...created.map((o) => Date.parse(String(o.createdAt)) + 720_000));
            const referenceSeconds = (lastDone - startEmulated) / 1000 + n / (limit / 60);
            const stats = await emulator.stats();
            const total = stats.requestsTotal;
            return {
                videos: n,
                limitPerMinute: limit,
                failures: results.filter((r) => r.status === "rejected").length,
                requests: total,
                share429: round(count(stats.requests, /./, "429") / total, 4),
                wallSeconds: round(wallSeconds),
                referenceSeconds: round(referenceSeconds),
                ratio: round(wallSeconds / referenceSeconds),
                clockSpeed: speed,
            };
        },
    );
}

/** `state`: the serialized provider, and one Video's whole entry in a checkpoint after `up`. */
async function state() {
    let providerText = "";
    await pulumi.runtime.setMocks(
        {
            newResource: (a) => {
                providerText = a.inputs.__provider;
                return { id: "x", state: a.inputs };
            },
            call: () => ({}),
        },
        "p",
        "s",
        false,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Video } = require("pulumi-imagine-video");
    const v = new Video("v", { prompt: "p", style: "fast-svd" });
    await new Promise<void>((r) => v.urn.apply(() => r()));
    // The quickstart example through the engine stand-in, as the lifecycle tests run it.
    const { s: videos, stop } = await startVideoStack([], {}, path.join(ROOT, "examples", "quickstart"));
    try {
        const up = await videos.stack.up();
        if (!up.ok) throw new Error(`state: up failed: ${up.errors.join("; ")}`);
        const entry = videos.stack.readState().deployment.resources.find((r) => r.type === VIDEO_TYPE);
        await videos.stack.destroy();
        return {
            providerBytes: Buffer.byteLength(providerText),
            resourceStateBytes: Buffer.byteLength(JSON.stringify(entry)),
        };
    } finally {
        await stop();
    }
}

const TARGETS = {
    destroy: "ratio <= 1.15, failures 0",
    destroyOverBudget: "ratio <= 1.3, failures 0",
    polling: "statusRequests <= 30, detectionLagSeconds <= 30",
    fanout: "failures 0, share429 <= 0.02, ratio <= 1.25",
    state: "providerBytes <= 2048",
    destroyVerification: "failures 0 (figures: the cost of verified deletes)",
    pollingTable:
        "every row: detectionLagSeconds <= max(15, 25% of the generation time); statusRequests <= 30 at 12 minutes",
    pollingLearning: "every row: second batch noticed within max(15 s, 25%), at most 1 status request more per video",
    imageQueue: "imageQueuePeakRssMiB <= 300 (100 image creates of 10 MiB), failures 0",
    cliDelete:
        "ratio <= 1.1 (against 1,000 / 50 minutes), failures 0, share429 <= 0.02, peakRssMiB <= 150, dryRunPeakRssMiB <= 150",
    ledgerScale: LEDGER_TARGET,
    ...FLEET_TARGETS,
};

function meets(results: Record<string, unknown>, runs: FleetRun[]): Record<string, boolean> {
    const r = results as Record<string, Record<string, number>>;
    return {
        fleet: fleetMeets(runs),
        bigDestroy: r.bigDestroy.failures === 0 && r.bigDestroy.ratio <= 1.15,
        bigDestroyNoLinks: r.bigDestroyNoLinks.failures === 0 && r.bigDestroyNoLinks.ratio <= 1.15,
        fleetSkew: (results.fleetSkew as { ratio: number; failures: number }[]).every(
            (row) => row.ratio <= 1.15 && row.failures === 0,
        ),
        statusShare: r.statusShare.maxStatusWaitSeconds <= 15 && r.statusShare.failures === 0,
        fairness: (results.fairness as { minShare: number; maxShare: number }[]).every(
            (row) => row.minShare / row.maxShare >= 0.8,
        ),
        destroy: r.destroy.ratio <= 1.15 && r.destroy.failures === 0,
        destroyOverBudget: r.destroyOverBudget.ratio <= 1.3 && r.destroyOverBudget.failures === 0,
        polling: r.polling.statusRequests <= 30 && r.polling.detectionLagSeconds <= 30,
        fanout: r.fanout.failures === 0 && r.fanout.share429 <= 0.02 && r.fanout.ratio <= 1.25,
        state: r.state.providerBytes <= 2048,
        destroyVerification: r.destroyVerification.failures === 0 && r.destroyVerification.videosLeft === 0,
        pollingTable: (results.pollingTable as PollingRow[]).every(pollingRowMeetsTarget),
        pollingLearning: (results.pollingLearning as LearningRow[]).every(learningRowMeetsTarget),
        ...(r.imageQueue
            ? { imageQueue: r.imageQueue.imageQueuePeakRssMiB <= 300 && r.imageQueue.failures === 0 }
            : {}),
        ...(r.cliDelete
            ? {
                  cliDelete:
                      r.cliDelete.ratio <= 1.1 &&
                      r.cliDelete.failures === 0 &&
                      r.cliDelete.share429 <= 0.02 &&
                      r.cliDelete.peakRssMiB <= 150 &&
                      r.cliDelete.dryRunPeakRssMiB <= 150,
              }
            : {}),
        ...(results.ledgerScale ? { ledgerScale: ledgerRowMeetsTarget(results.ledgerScale as LedgerScaleRow) } : {}),
    };
}

function round(v: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round(v * f) / f;
}

async function main() {
    const started = Date.now();
    const results: Record<string, unknown> = {};
    const only = args.only?.split(",");
    const wanted = (name: string) => !only || only.includes(name);
    const show = (name: string, row: unknown) => process.stdout.write(`  ${name}: ${JSON.stringify(row)}\n`);
    /** Runs a scenario and prints its figures as soon as it finishes (a run cut short keeps what it measured). */
    const run = async (name: string, f: () => Promise<unknown>) => {
        if (!wanted(name)) return;
        process.stdout.write(`running ${name}...\n`);
        results[name] = await f();
        show(name, results[name]);
    };
    let fleetRuns: FleetRun[] = [];
    await run("destroy", () => destroy(600));
    await run("destroyOverBudget", () => destroy(1000));
    await run("naiveDestroy", naiveDestroy);
    await run("polling", polling);
    await run("fanout", fanout);
    await run("state", state);
    await run("destroyVerification", () => destroyVerification(SMALL));
    const pollingSpeed = args["polling-speed"] === undefined ? undefined : Number(args["polling-speed"]);
    await run("pollingTable", () => pollingTable({ small: SMALL, speed: pollingSpeed }));
    await run("pollingLearning", () => pollingLearning({ small: SMALL, speed: pollingSpeed }));
    await run("imageQueue", () => imageQueue(SMALL));
    await run("ledgerScale", () => ledgerScale(SMALL));
    // Fleets on one key: accelerated; the emulator's pacing is strict, so keep the speed modest.
    const fleetSpeed = Number(args["fleet-speed"] ?? (SMALL ? 20 : 5));
    const fleetOptions = { small: SMALL, speed: fleetSpeed };
    if (wanted("fleet")) {
        process.stdout.write("running fleet...\n");
        fleetRuns = await fleet(fleetOptions, (row) => show("fleet", row));
    }
    const bigOptions = { small: SMALL, speed: Number(args["big-destroy-speed"] ?? (SMALL ? 30 : 10)) };
    await run("bigDestroy", () => bigDestroy(bigOptions));
    await run("bigDestroyNoLinks", () => bigDestroy(bigOptions, false));
    await run("fleetSkew", async () => [await fleetSkew(fleetOptions, 20), await fleetSkew(fleetOptions, 3600)]);
    await run("statusShare", () => statusShare(fleetOptions));
    await run("fairness", async () => [await fairness(fleetOptions, 2), await fairness(fleetOptions, 5)]);
    await run("cliDelete", () =>
        cliDelete({ small: SMALL, speed: args["cli-delete-speed"] ? Number(args["cli-delete-speed"]) : undefined }),
    );
    const met = args.only ? {} : meets(results, fleetRuns);
    const report = {
        size: SMALL ? "small" : "full",
        date: new Date().toISOString(),
        machine: {
            cpus: os.cpus().length,
            cpuModel: os.cpus()[0]?.model,
            memoryGiB: round(os.totalmem() / 2 ** 30, 1),
            node: process.version,
            platform: `${os.platform()} ${os.release()}`,
            loadAverage: os.loadavg().map((v) => round(v)),
        },
        seconds: round((Date.now() - started) / 1000, 1),
        results: {
            ...results,
            ...(fleetRuns.length ? { fleet: fleetRuns } : {}),
            // The issue's figure by its own name, beside the scenario that measures it.
            ...(results.imageQueue
                ? {
                      imageQueuePeakRssMiB: (results.imageQueue as { imageQueuePeakRssMiB: number })
                          .imageQueuePeakRssMiB,
                  }
                : {}),
        },
        targets: TARGETS,
        targetsMet: met,
    };
    fs.writeFileSync(OUT, JSON.stringify(report, null, 2) + "\n");
    console.log(`\n${"benchmark".padEnd(18)} figures`);
    const shown: [string, unknown][] = [
        ...Object.entries(results),
        ...(fleetRuns.length ? [["fleet", fleetRuns] as [string, unknown]] : []),
    ];
    for (const [name, figures] of shown) {
        const mark = name in met ? (met[name] ? "  [target met]" : "  [TARGET MISSED]") : "";
        const rows = Array.isArray(figures)
            ? (figures as Record<string, unknown>[])
            : [figures as Record<string, unknown>];
        rows.forEach((row, i) =>
            console.log(
                `${(i === 0 ? name : "").padEnd(18)} ${Object.entries(row)
                    .map(([k, v]) => `${k}=${String(v)}`)
                    .join("  ")}${i === 0 ? mark : ""}`,
            ),
        );
    }
    console.log(
        `\nwritten to ${OUT} (${report.size} size, ${report.seconds} s, ${report.machine.cpus} cores, ${report.machine.node})`,
    );
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
