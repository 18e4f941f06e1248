/** Starts one fleet worker (test/fleet/worker.ts) as a real child process, optionally under `faketime`. */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import type { WorkerJob, WorkerOutcome } from "./worker";

const ROOT = path.resolve(__dirname, "../..");

let built = false;
/**
 * The worker runs the built provider (dist/): refuses one that is missing or older than a source
 * file, so that a test never checks yesterday's code (`npm test` builds first; `npx jest` does not).
 */
function assertBuilt(): void {
    if (built) return;
    const stale: string[] = [];
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
            const rel = path.join(dir, e.name);
            if (e.isDirectory()) walk(rel);
            else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
                const js = path.join(ROOT, "dist", rel.replace(/\.ts$/, ".js"));
                const src = fs.statSync(path.join(ROOT, rel)).mtimeMs;
                if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < src) stale.push(rel);
            }
        }
    };
    walk("provider");
    if (stale.length) {
        throw new Error(`dist/ is older than ${stale.join(", ")}: run \`npm run build\` before the fleet tests`);
    }
    built = true;
}

export interface SpawnedWorker {
    /** Resolves once the worker is configured and waits for "go"; rejects when it exits before. */
    ready: Promise<void>;
    go(): void;
    /** The worker's outcome; rejects when it exits otherwise. */
    done: Promise<WorkerOutcome>;
    /** Kills it (SIGKILL); resolves once it has exited. */
    kill(): Promise<void>;
}

/** Workers not yet exited: a test that fails or times out leaves none running (see stopWorkers). */
const running = new Set<ChildProcess>();

/** Kills every worker still running and waits for each to exit: the fixture's afterAll. */
export async function stopWorkers(): Promise<void> {
    await Promise.all([...running].map(killAndWait));
}

function killAndWait(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.kill("SIGKILL");
    return closed;
}

/**
 * `faketime`: an offset for Debian's faketime (e.g. "+1h"): the child's whole clock (Date.now, timers'
 * wall time) is shifted, as on a machine whose clock is off.
 */
export function spawnWorker(job: WorkerJob, options: { faketime?: string } = {}): SpawnedWorker {
    assertBuilt();
    const node = [
        process.execPath,
        "-r",
        "ts-node/register/transpile-only",
        "test/fleet/worker.ts",
        JSON.stringify(job),
    ];
    const [cmd, ...args] = options.faketime ? ["faketime", "-f", options.faketime, ...node] : node;
    const child: ChildProcess = spawn(cmd, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    child.once("close", () => running.delete(child));
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: child.stdout! });
    let last = "";
    const ready = new Promise<void>((resolve, reject) => {
        lines.on("line", (l) => (l === "ready" ? resolve() : (last = l)));
        child.once("close", (code) => reject(new Error(`worker exited ${code} before it was ready: ${stderr}`)));
    });
    ready.catch(() => undefined);
    const done = new Promise<WorkerOutcome>((resolve, reject) =>
        child.on("close", (code) =>
            code === 0 && last
                ? resolve(JSON.parse(last) as WorkerOutcome)
                : reject(new Error(`worker exited ${code}: ${stderr}`)),
        ),
    );
    done.catch(() => undefined);
    return { ready, go: () => child.stdin!.write("go\n"), done, kill: () => killAndWait(child) };
}
