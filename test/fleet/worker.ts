/**
 * One provider process of a fleet test: its own handlers (and so its own request budget and Redis
 * connection) deleting the videos it is given and reading the ones it is told to read, all at once,
 * as the provider host does. Reads a JSON job from argv, says "ready", starts on "go" (a line on
 * stdin) and prints one JSON line with its outcome, every line it logged and every process warning
 * Node emitted (a MaxListenersExceededWarning among them), then exits. `speed` runs it accelerated
 * (a scaled clock, and the same factor for the Redis budget), as the benchmarks do. It runs the
 * built provider (dist/, as a provider host does; spawn-worker.ts refuses a dist/ older than its
 * sources): only this file is compiled at start, not the provider's every module.
 */
import * as path from "path";
import * as readline from "readline";

const DIST = path.resolve(__dirname, "../../dist/provider");
/* eslint-disable @typescript-eslint/no-require-imports */
const { scaledClock, systemClock } = require(`${DIST}/core/clock`) as typeof import("../../provider/core/clock");
const { createHandlers } = require(`${DIST}/methods/handlers`) as typeof import("../../provider/methods/handlers");
const { closeSharedRedis } = require(
    `${DIST}/budget/redis-connection`,
) as typeof import("../../provider/budget/redis-connection");
/* eslint-enable @typescript-eslint/no-require-imports */

export interface WorkerJob {
    baseUrl: string;
    token: string;
    redisUrl?: string;
    requestsPerMinute: number;
    ids: string[];
    /** Each id's stored outputs (its file link among them, as a state holds them); `{ videoId }` when absent. */
    outputs?: Record<string, Record<string, unknown>>;
    /** Videos to read (status reads) once each, at the same time as the deletes. */
    reads?: string[];
    speed?: number;
    /** More stack config (e.g. imagine:deleteTimeoutMinutes). */
    config?: Record<string, string>;
}

export interface WorkerOutcome {
    deleted: number;
    failures: string[];
    read: number;
    logs: string[];
    warnings: string[];
    processWarnings: string[];
}

async function main(): Promise<void> {
    const job = JSON.parse(process.argv[2]) as WorkerJob;
    const processWarnings: string[] = [];
    process.on("warning", (w) => processWarnings.push(`${w.name}: ${w.message}`));
    const logs: string[] = [];
    const warnings: string[] = [];
    const speed = job.speed ?? 1;
    const handlers = createHandlers({
        clock: speed === 1 ? systemClock : scaledClock(speed),
        speed,
        log: (m) => logs.push(m),
        warn: (m) => warnings.push(m),
        env: {},
    });
    const config: Record<string, string> = {
        "imagine:apiToken": job.token,
        "imagine:baseUrl": job.baseUrl,
        "imagine:requestsPerMinute": String(job.requestsPerMinute),
        ...(job.redisUrl ? { "imagine:redisUrl": job.redisUrl } : {}),
        ...job.config,
    };
    await handlers.configure({ config: { get: (k: string) => config[k] } });
    const lines = readline.createInterface({ input: process.stdin });
    process.stdout.write("ready\n");
    await new Promise<void>((resolve) => lines.once("line", () => resolve()));
    lines.close();
    const [results, reads] = await Promise.all([
        Promise.allSettled(job.ids.map((id) => handlers.delete(id, job.outputs?.[id] ?? { videoId: id }))),
        Promise.allSettled((job.reads ?? []).map((id) => handlers.read(id, { videoId: id }))),
    ]);
    await closeSharedRedis();
    const outcome: WorkerOutcome = {
        deleted: results.filter((r) => r.status === "fulfilled").length,
        failures: [...results, ...reads].flatMap((r) =>
            r.status === "rejected" ? [String((r.reason as Error)?.message ?? r.reason)] : [],
        ),
        read: reads.filter((r) => r.status === "fulfilled").length,
        logs,
        warnings,
        processWarnings,
    };
    process.stdout.write(JSON.stringify(outcome) + "\n");
}

main().then(
    () => process.exit(0),
    (e: unknown) => {
        process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
        process.exit(1);
    },
);
