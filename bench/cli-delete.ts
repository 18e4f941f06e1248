/**
 * Benchmark `cliDelete`: the `imagine-video delete` command on 1,000 ids from a file at 50 requests a
 * minute (the provider's budget and the emulator's strict limit), the emulator accelerated and the
 * command on the same scaled clock. A child node process runs the built CLI (dist/) and reports its
 * peak RSS (VmHWM). `ratio` is the emulated time against 1,000 / 50 minutes (one request per id);
 * each verified delete takes two API requests (the delete, then the status read that proves it: the
 * command has no stored file link to ask instead), so `ratioPerRequest` compares with the requests sent.
 * A second child lists 100,000 ids with `--dry-run` for its peak RSS.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "../emulator";
import { countRequests } from "./request-count";
import { seedVideos } from "./seed";

const ROOT = path.resolve(__dirname, "..");
const TOKEN = "vk-benchCLIDELETE0123456789abcdefghijklmnopqrstuvw";

/** The child: the CLI's runCli on a scaled clock, stdout counted not kept; figures as JSON on fd 3. */
const CHILD = `
const fs = require("fs");
const { runCli } = require(${JSON.stringify(path.join(ROOT, "dist", "provider", "cli", "main.js"))});
const { scaledClock } = require(${JSON.stringify(path.join(ROOT, "dist", "provider", "core", "clock.js"))});
const { Writable } = require("stream");
const [speed, cwd, ...argv] = process.argv.slice(1);
const peakMiB = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
let lines = 0;
const stdout = new Writable({ write(c, _e, cb) { for (const b of c) if (b === 10) lines++; cb(); } });
const clock = scaledClock(Number(speed));
const started = clock.now();
runCli(argv, { stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd, clock }).then((code) => {
    fs.writeSync(3, JSON.stringify({ code, seconds: (clock.now() - started) / 1000, peakMiB: peakMiB(), lines }) + "\\n");
    process.exit(0);
});
`;

interface ChildResult {
    code: number;
    seconds: number;
    peakMiB: number;
    lines: number;
}

function runChild(speed: number, cwd: string, argv: string[], env: Record<string, string>): Promise<ChildResult> {
    return new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ["-e", CHILD, String(speed), cwd, ...argv], {
            env: { PATH: process.env.PATH ?? "", ...env },
            stdio: ["ignore", "ignore", "pipe", "pipe"],
        });
        let figures = "";
        let stderr = "";
        p.stderr!.on("data", (c) => (stderr += c));
        (p.stdio[3] as NodeJS.ReadableStream).on("data", (c) => (figures += c));
        p.on("close", () => {
            try {
                resolve(JSON.parse(figures) as ChildResult);
            } catch {
                reject(new Error(`cliDelete child failed: ${stderr.slice(-2000)}`));
            }
        });
    });
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const sum = (requests: Record<string, Record<string, number>>, status?: string) =>
    countRequests(requests, /\/v2\//, status);

/** The `cliDelete` figures. */
export async function cliDelete(o: { small: boolean; speed?: number }): Promise<Record<string, number>> {
    const n = o.small ? 50 : 1000;
    const dryIds = o.small ? 10_000 : 100_000;
    const speed = o.speed ?? (o.small ? 240 : 60);
    const limit = 50;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-cli-"));
    const emulator = await startEmulator({
        dataDir: path.join(dir, "data"),
        tokens: [TOKEN],
        processingSeconds: 0,
        credits: 1_000_000,
        clockSpeed: speed,
    });
    try {
        const ids = await seedVideos(emulator.url, TOKEN, n, "cli");
        fs.writeFileSync(path.join(dir, "ids.txt"), ids.join("\n") + "\n");
        emulator.configure({ rateLimitPerMinute: limit, rateLimitBurst: 1 });
        const env = {
            IMAGINE_API_TOKEN: TOKEN,
            IMAGINE_BASE_URL: emulator.url,
            IMAGINE_REQUESTS_PER_MINUTE: String(limit),
        };
        const before = (await emulator.stats()).requests;
        const run = await runChild(speed, dir, ["delete", "--ids-file", "ids.txt", "--json"], env);
        const after = await emulator.stats();
        const requests = sum(after.requests) - sum(before);
        const throttled = sum(after.requests, "429") - sum(before, "429");
        const receipts = fs.readFileSync(path.join(dir, "imagine-deletions.jsonl"), "utf8").trim().split("\n").length;

        const many: string[] = [];
        for (let i = 0; i < dryIds; i++) many.push(`video-${String(i).padStart(7, "0")}-0123456789abcdefghijklmnop`);
        fs.writeFileSync(path.join(dir, "many.txt"), many.join("\n") + "\n");
        const dry = await runChild(1, dir, ["delete", "--ids-file", "many.txt", "--dry-run", "--json"], env);
        const reference = (n / limit) * 60;
        return {
            ids: n,
            seconds: round(run.seconds),
            ratio: round(run.seconds / reference),
            share429: round(throttled / requests, 4),
            failures: n - receipts + (run.code === 0 ? 0 : 1),
            peakRssMiB: round(run.peakMiB, 1),
            apiRequests: requests,
            requestsPerId: round(requests / n),
            ratioPerRequest: round(run.seconds / ((requests / limit) * 60)),
            videosLeft: after.videosStored,
            dryRunIds: dryIds,
            dryRunPeakRssMiB: round(dry.peakMiB, 1),
            dryRunFailures: dry.code === 0 && dry.lines === dryIds + 1 ? 0 : 1,
            clockSpeed: speed,
        };
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
