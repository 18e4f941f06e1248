/**
 * Benchmark `imageQueue`: memory of image creates queued behind a slow request budget. A child node
 * process runs the built provider (dist/) as the provider host would: N image creates of a 10 MiB
 * image at once, behind a budget of R requests a minute, against a sink vendor in this process that
 * reads each upload to its end and answers an id. The child reports its peak RSS (VmHWM): the figure
 * `imageQueuePeakRssMiB` (target: at most 300 MiB for 100 creates).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const TOKEN = "vk-benchIMAGEQUEUE0123456789abcdefghijklmnopqrstuv";

/** The child: configure the provider, check then create every video at once, print figures as JSON. */
const CHILD = `
const { createHandlers } = require(${JSON.stringify(path.join(ROOT, "dist", "provider", "methods", "handlers.js"))});
const fs = require("fs");
const [url, file, n, rpm, token] = process.argv.slice(1);
const peakMiB = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
(async () => {
    const h = createHandlers({ log: () => undefined, env: {} });
    const config = { "imagine:apiToken": token, "imagine:baseUrl": url, "imagine:requestsPerMinute": rpm, "imagine:requestTimeoutSeconds": "120" };
    await h.configure({ config: { get: (k) => config[k] } });
    const baseMiB = process.memoryUsage().rss / 2 ** 20;
    const inputs = [];
    for (let i = 0; i < Number(n); i++) {
        const r = await h.check({}, { prompt: "queued image " + i, style: "kling-1.0-pro", imagePath: file, waitForCompletion: false, __provider: "bench" });
        if (r.failures.length) throw new Error(JSON.stringify(r.failures));
        inputs.push(r.inputs);
    }
    const afterCheckMiB = peakMiB();
    const started = Date.now();
    const results = await Promise.allSettled(inputs.map((i) => h.create(i)));
    const failures = results.filter((r) => r.status === "rejected");
    process.stdout.write(JSON.stringify({
        baseMiB, afterCheckMiB, peakMiB: peakMiB(), seconds: (Date.now() - started) / 1000,
        failures: failures.length, firstFailure: failures[0] ? String(failures[0].reason && failures[0].reason.message) : undefined,
    }) + "\\n");
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** A vendor that reads each upload to its end (counting bytes) and answers a new id. */
async function startSink(): Promise<{
    url: string;
    uploads: () => number;
    bytes: () => number;
    stop: () => Promise<void>;
}> {
    let uploads = 0;
    let bytes = 0;
    const server = http.createServer((req, res) => {
        req.on("data", (c: Buffer) => (bytes += c.length));
        req.on("end", () => {
            uploads++;
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ id: `q-${uploads}`, status: "processing" }));
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        uploads: () => uploads,
        bytes: () => bytes,
        stop: () => new Promise<void>((r) => server.close(() => r())),
    };
}

export async function imageQueue(small: boolean): Promise<Record<string, number>> {
    const n = small ? 10 : 100;
    const rpm = small ? 600 : 300;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-images-"));
    const file = path.join(dir, "large.png");
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    fs.writeFileSync(file, Buffer.concat([png, Buffer.alloc(10 * 1024 * 1024 - png.length, 7)]));
    const sink = await startSink();
    try {
        const out = await new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ["-e", CHILD, sink.url, file, String(n), String(rpm), TOKEN], {
                stdio: ["ignore", "pipe", "inherit"],
            });
            let text = "";
            child.stdout.on("data", (c) => (text += c));
            child.on("close", (code) =>
                code === 0 ? resolve(text) : reject(new Error(`imageQueue child exited ${code}`)),
            );
        });
        const r = JSON.parse(out) as {
            baseMiB: number;
            afterCheckMiB: number;
            peakMiB: number;
            seconds: number;
            failures: number;
            firstFailure?: string;
        };
        if (r.firstFailure) process.stdout.write(`imageQueue: first failure: ${r.firstFailure}\n`);
        return {
            videos: n,
            imageMiB: 10,
            budgetPerMinute: rpm,
            imageQueuePeakRssMiB: Math.round(r.peakMiB),
            baselineRssMiB: Math.round(r.baseMiB),
            wallSeconds: Math.round(r.seconds * 10) / 10,
            failures: r.failures,
            uploadsReceived: sink.uploads(),
            uploadedMiB: Math.round(sink.bytes() / 2 ** 20),
        };
    } finally {
        await sink.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
