/** Starts one fleet worker (test/fleet/worker.ts) as a real child process, optionally under `faketime`. */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import type { WorkerJob, WorkerOutcome } from "./worker";

const ROOT = path.resolve(__dirname, "../..");

export interface SpawnedWorker {
    /** Resolves once the worker is configured and waits for "go". */
    ready: Promise<void>;
    go(): void;
    /** The worker's outcome; rejects when it exits otherwise. */
    done: Promise<WorkerOutcome>;
    kill(): void;
}

/**
 * `faketime`: an offset for Debian's faketime (e.g. "+1h"): the child's whole clock (Date.now, timers'
 * wall time) is shifted, as on a machine whose clock is off.
 */
export function spawnWorker(job: WorkerJob, options: { faketime?: string } = {}): SpawnedWorker {
    const node = [
        process.execPath,
        "-r",
        "ts-node/register/transpile-only",
        "test/fleet/worker.ts",
        JSON.stringify(job),
    ];
    const [cmd, ...args] = options.faketime ? ["faketime", "-f", options.faketime, ...node] : node;
    const child: ChildProcess = spawn(cmd, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: child.stdout! });
    let last = "";
    const ready = new Promise<void>((resolve) => lines.on("line", (l) => (l === "ready" ? resolve() : (last = l))));
    const done = new Promise<WorkerOutcome>((resolve, reject) =>
        child.on("close", (code) =>
            code === 0 && last
                ? resolve(JSON.parse(last) as WorkerOutcome)
                : reject(new Error(`worker exited ${code}: ${stderr}`)),
        ),
    );
    done.catch(() => undefined);
    return { ready, go: () => child.stdin!.write("go\n"), done, kill: () => child.kill("SIGKILL") };
}
