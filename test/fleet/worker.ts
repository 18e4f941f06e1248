/**
 * One provider process of a fleet test: its own handlers (and so its own request budget and Redis
 * connection) deleting the videos it is given and reading the ones it is told to read, all at once,
 * as the provider host does. Reads a JSON job from argv, says "ready", starts on "go" (a line on
 * stdin) and prints one JSON line with its outcome, every line it logged and every process warning
 * Node emitted (a MaxListenersExceededWarning among them), then exits. `speed` runs it accelerated
 * (a scaled clock, and the same factor for the Redis budget), as the benchmarks do.
 */
import * as readline from "readline";
import { scaledClock, systemClock } from "../../provider/core/clock";
import { createHandlers } from "../../provider/methods/handlers";
import { closeSharedRedis } from "../../provider/budget/redis-connection";

export interface WorkerJob {
    baseUrl: string;
    token: string;
    redisUrl?: string;
    requestsPerMinute: number;
    ids: string[];
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
        Promise.allSettled(job.ids.map((id) => handlers.delete(id, { videoId: id }))),
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
