// A real redis-server (/usr/bin/redis-server) on a free loopback port in a temp folder, for tests:
// no persistence, stopped by whoever started it; kill9() and restart() simulate an outage.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface RedisServer {
    url: string;
    port: number;
    stop(): Promise<void>;
    kill9(): void;
    restart(): Promise<void>;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

export async function startRedisServer(): Promise<RedisServer> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-test-"));
    let proc: ChildProcess | undefined;
    const launch = () =>
        new Promise<void>((resolve, reject) => {
            const p = spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], {
                stdio: ["ignore", "pipe", "pipe"],
            });
            proc = p;
            let out = "";
            const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10000);
            p.stdout.setEncoding("utf8").on("data", (d: string) => {
                out += d;
                if (out.includes("Ready to accept connections")) {
                    clearTimeout(timer);
                    resolve();
                }
            });
            p.once("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`redis-server exited (${code}): ${out}`));
            });
        });
    const stopProc = async () => {
        const p = proc;
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        const gone = new Promise<void>((r) => p.once("exit", () => r()));
        p.kill("SIGKILL");
        await gone;
    };
    await launch();
    return {
        url: `redis://127.0.0.1:${port}`,
        port,
        kill9: () => void proc?.kill("SIGKILL"),
        async restart() {
            await stopProc();
            await launch();
        },
        async stop() {
            await stopProc();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
