/**
 * A real redis-server for tests and benchmarks: on a free loopback port, in a temporary folder,
 * with an append-only file (as the ledger asks of a Redis; never fsync'd), stopped by its owner (and killed if the owning process exits first).
 * `kill9` and `restart` (same port, empty data) let tests lose Redis mid-run and bring it back.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const REDIS_SERVER = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";

export interface RunningRedis {
    /** redis://127.0.0.1:PORT */
    url: string;
    port: number;
    /** Stops the server (SIGTERM, then SIGKILL) and removes its folder. */
    stop(): Promise<void>;
    /** Kills the server at once (SIGKILL), as a crash would. */
    kill9(): void;
    /** Starts it again on the same port (after kill9 or stop), with no data. */
    restart(): Promise<void>;
    /** Suspends the server (SIGSTOP): connections stay open, nothing is answered (a slow Redis). */
    freeze(): void;
    /** Resumes a frozen server (SIGCONT). */
    thaw(): void;
}

export async function startRedisServer(): Promise<RunningRedis> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-redis-"));
    let port = 0;
    let child: ChildProcess | undefined;
    const killOnExit = () => child?.kill("SIGKILL");
    process.on("exit", killOnExit);

    const launch = async (): Promise<void> => {
        const proc = spawn(
            REDIS_SERVER,
            [
                "--port",
                String(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir,
                "--save",
                "",
                // Persistent as the ledger asks (no durability warning), without an fsync per write.
                "--appendonly",
                "yes",
                "--appendfsync",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            { stdio: ["ignore", "ignore", "pipe"] },
        );
        child = proc;
        let stderr = "";
        proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
        const deadline = Date.now() + 10_000;
        for (;;) {
            if (await answersPing(port)) {
                return;
            }
            const code = await Promise.race([exited, sleep(50).then(() => "running" as const)]);
            if (code !== "running") {
                throw new Error(`redis-server on port ${port} exited (${code}): ${stderr.trim()}`);
            }
            if (Date.now() > deadline) {
                proc.kill("SIGKILL");
                throw new Error(`redis-server on port ${port} did not answer within 10 s`);
            }
        }
    };
    const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
        const proc = child;
        child = undefined;
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
            return;
        }
        const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
        proc.kill("SIGCONT"); // a frozen server cannot act on SIGTERM
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
    };

    // A free port can be taken between our probe and the server's bind: try a few.
    for (let attempt = 0; ; attempt++) {
        port = await freePort();
        try {
            await launch();
            break;
        } catch (e) {
            if (attempt >= 3) {
                throw e;
            }
        }
    }
    return {
        url: `redis://127.0.0.1:${port}`,
        port,
        async stop() {
            await stopChild("SIGTERM");
            process.off("exit", killOnExit);
            fs.rmSync(dir, { recursive: true, force: true });
        },
        kill9() {
            child?.kill("SIGKILL");
        },
        async restart() {
            await stopChild("SIGKILL");
            // "With no data": what the append-only file kept goes too.
            fs.rmSync(dir, { recursive: true, force: true });
            fs.mkdirSync(dir, { recursive: true });
            await launch();
        },
        freeze() {
            child?.kill("SIGSTOP");
        },
        thaw() {
            child?.kill("SIGCONT");
        },
    };
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Whether a Redis answers PING on the port (false while nothing listens). */
function answersPing(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let reply = "";
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once("error", () => done(false));
        socket.once("connect", () => socket.write("PING\r\n"));
        socket.on("data", (d) => {
            reply += d.toString();
            if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
        });
    });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
