/**
 * Benchmark `ledgerScale`: the ledger of accepted generations after a long life. A ledger file holding
 * what N past videos left (accepted, handed, removed: three lines each, as a ledger that never compacted
 * would), then, through the built provider's methods in a child process (its peak RSS is the ledger's,
 * not the benchmark's) against the emulator: one create (it writes, so the file
 * compacts itself), one diff of a video the ledger does not hold (the median of 50), and 200 diffs at once
 * of videos it does hold. Figures: `fileBytes` after the run, `diffMs`, `createMs`, `concurrentMs`, and the
 * process's peak RSS. Targets: diffMs <= 5, concurrentMs <= 1000, peakRssMiB <= 200, fileBytes bounded
 * by the live entries.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "imagine-api-emulator";
import { accountOf, definingDigest } from "../provider/ledger/ledger";
import { spawn } from "child_process";

const ROOT = path.resolve(__dirname, "..");
const TOKEN = "vk-benchLEDGER0123456789abcdefghijklmnopqrstuvwxyzAB";

export const LEDGER_TARGET =
    "diffMs <= 5, concurrentMs <= 1000, peakRssMiB <= 200, fileBytes bounded by the live entries";

export interface LedgerScaleRow {
    pastVideos: number;
    fileBytes: number;
    diffMs: number;
    createMs: number;
    concurrentDiffs: number;
    concurrentMs: number;
    peakRssMiB: number;
}

export function ledgerRowMeetsTarget(r: LedgerScaleRow): boolean {
    // Live entries after the run: the 200 shown by the diffs are gone, the one create is handed.
    return r.diffMs <= 5 && r.concurrentMs <= 1000 && r.peakRssMiB <= 200 && r.fileBytes <= 4096;
}

/**
 * The child: the built provider (dist/) as the provider host runs it, configured against the emulator
 * and the ledger file; one create, 50 diffs one after another, N diffs at once; figures as JSON.
 */
const CHILD = `
const { createHandlers } = require(${JSON.stringify(path.join(ROOT, "dist", "provider", "methods", "handlers.js"))});
const fs = require("fs");
const [url, file, n, token] = process.argv.slice(1);
const peakMiB = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
const identity = (name) => ({ organization: "bench", project: "p", stack: "prod", name });
const prompt = (i) => ({ prompt: "video " + i, style: "kling-1.0-pro" });
(async () => {
    const h = createHandlers({ log: () => undefined, warn: () => undefined, env: {}, cwd: () => require("path").dirname(file) });
    const config = { "imagine:apiToken": token, "imagine:baseUrl": url, "imagine:requestsPerMinute": "60000", "imagine:ledgerPath": file };
    await h.configure({ config: { get: (k) => config[k] } });
    let t = performance.now();
    await h.create({ ...prompt(-1), identity: identity("new"), waitForCompletion: false, __provider: "bench" });
    const createMs = performance.now() - t;
    const news = { ...prompt(0), identity: identity("v0") };
    const times = [];
    for (let i = 0; i < 50; i++) {
        t = performance.now();
        await h.diff("not-in-ledger-" + i, { ...news, videoId: "x" }, news);
        times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    t = performance.now();
    await Promise.all(Array.from({ length: Number(n) }, (_, i) => {
        const x = { ...prompt(i), identity: identity("v" + i) };
        return h.diff("past-" + i, { ...x, videoId: "past-" + i }, x);
    }));
    const concurrentMs = performance.now() - t;
    // The compaction the last writes started runs on after them: measure the file once it has settled.
    let size = -1;
    for (let i = 0; i < 200 && size !== fs.statSync(file).size; i++) {
        size = fs.statSync(file).size;
        await new Promise((r) => setTimeout(r, 25));
    }
    process.stdout.write(JSON.stringify({ createMs, diffMs: times[Math.floor(times.length / 2)], concurrentMs, fileBytes: fs.statSync(file).size, peakRssMiB: peakMiB() }) + "\\n");
})().catch((e) => { console.error(e); process.exit(1); });
`;

export async function ledgerScale(small: boolean): Promise<LedgerScaleRow> {
    const pastVideos = small ? 2000 : 20_000;
    const concurrentDiffs = small ? 50 : 200;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-ledger-"));
    const emulator = await startEmulator({ dataDir: path.join(dir, "data"), tokens: [TOKEN], processingSeconds: 0 });
    try {
        const account = accountOf(emulator.url, TOKEN);
        const identity = (name: string) => ({ organization: "bench", project: "p", stack: "prod", name });
        const prompt = (i: number) => ({ prompt: `video ${i}`, style: "kling-1.0-pro" });
        const lines: string[] = [];
        const at = Date.now() - 86_400_000;
        for (let i = 0; i < pastVideos; i++) {
            const e = { key: identity(`v${i}`), videoId: `past-${i}`, digest: definingDigest(prompt(i)), account, at };
            lines.push(JSON.stringify({ op: "put", ...e, state: "accepted" }));
            lines.push(JSON.stringify({ op: "put", ...e, state: "handed" }));
            // The first N are still waiting for the engine to show them (the concurrent diffs do).
            if (i >= concurrentDiffs) lines.push(JSON.stringify({ op: "remove", key: e.key, videoId: e.videoId, at }));
        }
        const file = path.join(dir, "ledger.jsonl");
        fs.writeFileSync(file, lines.join("\n") + "\n");
        const out = await new Promise<string>((resolve, reject) => {
            let text = "";
            const p = spawn(process.execPath, ["-e", CHILD, emulator.url, file, String(concurrentDiffs), TOKEN], {
                stdio: ["ignore", "pipe", "inherit"],
            });
            p.stdout.on("data", (d: Buffer) => (text += d.toString()));
            p.on("close", (code) =>
                code === 0 ? resolve(text) : reject(new Error(`ledgerScale child exited ${code}`)),
            );
        });
        const child = JSON.parse(out.trim()) as Omit<LedgerScaleRow, "pastVideos" | "concurrentDiffs">;
        const round = (v: number) => Math.round(v * 100) / 100;
        return {
            pastVideos,
            fileBytes: child.fileBytes,
            diffMs: round(child.diffMs),
            createMs: round(child.createMs),
            concurrentDiffs,
            concurrentMs: round(child.concurrentMs),
            peakRssMiB: round(child.peakRssMiB),
        };
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Run alone: `npx ts-node --transpile-only bench/ledger-scale.ts [--small]` (after `npm run build`). */
if (require.main === module) {
    ledgerScale(process.argv.includes("--small")).then(
        (row) => process.stdout.write(JSON.stringify(row) + "\n"),
        (e: unknown) => {
            console.error(e);
            process.exit(1);
        },
    );
}
