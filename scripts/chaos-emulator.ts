// The emulator of the chaos run as a child process (the CLI, emulator/bin/imagine-emulator.js), so it can be
// `kill -9`'d and started again on the same port and data folder. Counts of vendor requests are summed
// over its lifetimes: the stats of a lifetime are read just before it is killed (a `kill -9` loses only
// the requests answered between that read and the kill; the exact number of generations comes from the
// emulator's own SQLite store, which survives the kill: see `storeFacts`).
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import * as net from "net";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

export interface EmulatorStats {
    videosStored: number;
    bytesStored: number;
    requestsTotal: number;
    requests: Record<string, Record<string, number>>;
}

/** A free loopback port: bind port 0, read it, close. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

/** A small JSON request to the emulator with a hard timeout (no retries; the caller decides). */
export function httpJson(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
    timeoutMs = 3000,
): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request(
            url,
            {
                method,
                agent: false,
                timeout: timeoutMs,
                headers: {
                    ...headers,
                    ...(data ? { "content-type": "application/json", "content-length": String(data.length) } : {}),
                },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: unknown = text;
                    try {
                        parsed = JSON.parse(text);
                    } catch {
                        /* not JSON (e.g. the HTML 500 fault) */
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed });
                });
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
        req.on("error", reject);
        if (data) req.write(data);
        req.end();
    });
}

export class EmulatorProcess {
    private proc: ChildProcess | undefined;
    private exited: Promise<void> | undefined;
    /** Stats read last in the current lifetime. */
    private last: EmulatorStats | undefined;
    /** Final (last read) stats of the lifetimes that ended. */
    readonly lifetimes: EmulatorStats[] = [];
    kills = 0;
    starts = 0;
    stderr = "";

    constructor(
        readonly port: number,
        readonly dataDir: string,
        private readonly token: string,
        private readonly switches: string[],
    ) {}

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }
    get running(): boolean {
        return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
    }

    /** Starts the CLI (the token goes on its command line: the CLI has no other way to take it). */
    async start(extra: string[] = this.switches): Promise<void> {
        const args = [
            path.join(ROOT, "emulator", "bin", "imagine-emulator.js"),
            "--port",
            String(this.port),
            "--data-dir",
            this.dataDir,
            "--token",
            this.token,
            ...extra,
        ];
        const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        this.proc = p;
        this.starts++;
        this.last = undefined;
        this.exited = new Promise((r) => p.once("exit", () => r()));
        p.stderr.setEncoding("utf8").on("data", (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
        await new Promise<void>((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => reject(new Error(`emulator did not start in 15 s: ${this.stderr}`)), 15000);
            const onData = (d: string) => {
                out += d;
                const nl = out.indexOf("\n");
                if (nl < 0) return;
                clearTimeout(timer);
                p.stdout.off("data", onData);
                p.stdout.resume();
                const line = out.slice(0, nl);
                if (line === `imagine-emulator listening on ${this.url}`) resolve();
                else reject(new Error(`unexpected first line of the emulator: ${line}`));
            };
            p.stdout.setEncoding("utf8").on("data", onData);
            p.once("exit", (code, sig) => {
                clearTimeout(timer);
                reject(new Error(`emulator exited (${code ?? sig}) before listening: ${this.stderr}`));
            });
        });
    }

    /** GET /__emulator/stats; remembered as the latest figures of this lifetime. */
    async stats(): Promise<EmulatorStats> {
        const r = await httpJson("GET", `${this.url}/__emulator/stats`);
        if (r.status !== 200) throw new Error(`stats: HTTP ${r.status}`);
        this.last = r.body as EmulatorStats;
        return this.last;
    }

    async configure(switches: Record<string, unknown>): Promise<void> {
        const r = await httpJson("POST", `${this.url}/__emulator/config`, switches);
        if (r.status !== 200) throw new Error(`config: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    }

    /** Reads the stats one last time, then `kill -9`. */
    async kill9(): Promise<void> {
        await this.stats().catch(() => undefined);
        this.endLifetime();
        this.proc?.kill("SIGKILL");
        await this.exited;
        this.kills++;
    }

    /** Orderly stop (SIGTERM, then SIGKILL after 5 s), reading the stats first. */
    async stop(): Promise<void> {
        if (!this.proc) return;
        if (this.running) {
            await this.stats().catch(() => undefined);
            this.endLifetime();
            this.proc.kill("SIGTERM");
            const t = setTimeout(() => this.proc?.kill("SIGKILL"), 5000);
            await this.exited;
            clearTimeout(t);
        }
        this.proc = undefined;
    }

    /** Synchronous last resort (process exit handlers). */
    killNow(): void {
        if (this.running) this.proc!.kill("SIGKILL");
    }

    private endLifetime(): void {
        if (this.last) this.lifetimes.push(this.last);
        this.last = undefined;
    }

    /** Sum over ended lifetimes (plus the current one's last read) of `requests[route][status]`. */
    count(route: string, status: string): number {
        const all = [...this.lifetimes, ...(this.last ? [this.last] : [])];
        return all.reduce((n, s) => n + (s.requests?.[route]?.[status] ?? 0), 0);
    }

    /** requests[route][status] summed over every lifetime. */
    totals(): Record<string, Record<string, number>> {
        const out: Record<string, Record<string, number>> = {};
        for (const s of [...this.lifetimes, ...(this.last ? [this.last] : [])]) {
            for (const [route, byStatus] of Object.entries(s.requests ?? {})) {
                const o = (out[route] ??= {});
                for (const [st, n] of Object.entries(byStatus)) o[st] = (o[st] ?? 0) + n;
            }
        }
        return out;
    }
}

/** Facts from the emulator's SQLite store (read-only): survive `kill -9`, unlike the in-memory stats. */
export function storeFacts(dataDir: string): {
    generations: number;
    creditsUsed: number;
    ids: string[];
    rows: { id: string; prompt: string }[];
} {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require("better-sqlite3");
    const db = new Database(path.join(dataDir, "emulator.db"), { readonly: true, fileMustExist: true, timeout: 5000 });
    try {
        const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'videos'").get() as
            { seq: number } | undefined;
        const credits = db.prepare("SELECT COALESCE(SUM(used), 0) AS n FROM credits").get() as { n: number };
        const rows = db.prepare("SELECT id, prompt FROM videos ORDER BY seq").all() as { id: string; prompt: string }[];
        return { generations: seq?.seq ?? 0, creditsUsed: credits.n, ids: rows.map((r) => r.id), rows };
    } finally {
        db.close();
    }
}
