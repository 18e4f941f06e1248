/**
 * One provider process of a fleet test: its own handlers (and so its own request budget and Redis
 * connection) deleting the videos it is given, all at once, as the provider host does on destroy.
 * Reads a JSON job from argv, says "ready", starts on "go" (a line on stdin) and prints one JSON
 * line with its outcome and every line it logged, then exits.
 */
import * as readline from "readline";
import { createHandlers } from "../../provider/methods/handlers";
import { closeSharedRedis } from "../../provider/budget/redis-connection";

export interface WorkerJob {
    baseUrl: string;
    token: string;
    redisUrl?: string;
    requestsPerMinute: number;
    ids: string[];
}

export interface WorkerOutcome {
    deleted: number;
    failures: string[];
    logs: string[];
    warnings: string[];
}

async function main(): Promise<void> {
    const job = JSON.parse(process.argv[2]) as WorkerJob;
    const logs: string[] = [];
    const warnings: string[] = [];
    const handlers = createHandlers({ log: (m) => logs.push(m), warn: (m) => warnings.push(m), env: {} });
    const config: Record<string, string> = {
        "imagine:apiToken": job.token,
        "imagine:baseUrl": job.baseUrl,
        "imagine:requestsPerMinute": String(job.requestsPerMinute),
        ...(job.redisUrl ? { "imagine:redisUrl": job.redisUrl } : {}),
    };
    await handlers.configure({ config: { get: (k: string) => config[k] } });
    const lines = readline.createInterface({ input: process.stdin });
    process.stdout.write("ready\n");
    await new Promise<void>((resolve) => lines.once("line", () => resolve()));
    lines.close();
    const results = await Promise.allSettled(job.ids.map((id) => handlers.delete(id, { videoId: id })));
    await closeSharedRedis();
    const outcome: WorkerOutcome = {
        deleted: results.filter((r) => r.status === "fulfilled").length,
        failures: results.flatMap((r) =>
            r.status === "rejected" ? [String((r.reason as Error)?.message ?? r.reason)] : [],
        ),
        logs,
        warnings,
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
