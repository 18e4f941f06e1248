/**
 * Benchmark (not a test): status-route throughput of the emulator.
 * Spawns the CLI (emulator/bin/imagine-emulator.js, built emulator/dist/) in its own process on a temp folder, creates
 * videos, then hammers GET /v2/video/{id}/status with N concurrent keep-alive clients for D seconds and
 * prints requests/second and latency p50/p99 as a table and as JSON.
 * Usage: npm run bench:emulator [-- --concurrency 32 --seconds 10 --videos 50]
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const TOKEN = "vk-bench000000000000000000000000000000000000000";

const { values } = parseArgs({
    options: {
        concurrency: { type: "string", default: "32" },
        seconds: { type: "string", default: "10" },
        videos: { type: "string", default: "50" },
    },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const videoCount = Number(values.videos);

async function startCli(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
    const bin = path.join(__dirname, "..", "emulator", "bin", "imagine-emulator.js");
    const child = spawn(
        process.execPath,
        [bin, "--port", "0", "--data-dir", dataDir, "--token", TOKEN, "--clock-speed", "7200"],
        {
            stdio: ["ignore", "pipe", "inherit"],
        },
    );
    const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk) => {
            out += chunk;
            const match = /^imagine-emulator listening on (\S+)\n/.exec(out);
            if (match) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
    const stop = () =>
        new Promise<void>((resolve) => {
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
        });
    return { url, stop };
}

function request(
    agent: http.Agent,
    url: URL,
    method: string,
    body?: { type: string; data: Buffer },
): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = { authorization: `Bearer ${TOKEN}` };
        if (body) Object.assign(headers, { "content-type": body.type, "content-length": body.data.length });
        const req = http.request(
            { agent, host: url.hostname, port: url.port, path: url.pathname, method, headers },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c) => (text += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
            },
        );
        req.on("error", reject);
        req.end(body?.data);
    });
}

function multipartBody(fields: Record<string, string>): { type: string; data: Buffer } {
    const boundary = "benchboundary";
    const parts = Object.entries(fields).map(
        ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
    );
    return {
        type: `multipart/form-data; boundary=${boundary}`,
        data: Buffer.from(parts.join("") + `--${boundary}--\r\n`),
    };
}

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-"));
    const emulator = await startCli(dataDir);
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    try {
        const ids: string[] = [];
        for (let i = 0; i < videoCount; i++) {
            const created = await request(
                agent,
                new URL(`${emulator.url}/v2/video/text-to-video`),
                "POST",
                multipartBody({ prompt: `bench ${i}`, style: "fast-svd" }),
            );
            if (created.status !== 200) throw new Error(`create failed: ${created.status} ${created.text}`);
            ids.push((JSON.parse(created.text) as { id: string }).id);
        }
        await new Promise((r) => setTimeout(r, 200)); // at clock speed 7200 every video has finished now
        const latencies: number[] = [];
        const codes: Record<string, number> = {};
        const deadline = Date.now() + seconds * 1000;
        const started = process.hrtime.bigint();
        await Promise.all(
            Array.from({ length: concurrency }, async (_, worker) => {
                let i = worker;
                while (Date.now() < deadline) {
                    const id = ids[i++ % ids.length];
                    const t0 = process.hrtime.bigint();
                    const answer = await request(agent, new URL(`${emulator.url}/v2/video/${id}/status`), "GET");
                    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
                    codes[answer.status] = (codes[answer.status] ?? 0) + 1;
                }
            }),
        );
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        latencies.sort((a, b) => a - b);
        const result = {
            route: "GET /v2/video/:id/status",
            concurrency,
            seconds: Number(elapsed.toFixed(2)),
            requests: latencies.length,
            requestsPerSecond: Math.round(latencies.length / elapsed),
            latencyMs: {
                p50: Number(percentile(latencies, 50).toFixed(2)),
                p99: Number(percentile(latencies, 99).toFixed(2)),
                max: Number(latencies[latencies.length - 1].toFixed(2)),
            },
            statusCodes: codes,
            cpus: os.cpus().length,
            node: process.version,
        };
        const rows = [
            ["route", result.route],
            ["concurrency", String(concurrency)],
            ["duration (s)", String(result.seconds)],
            ["requests", String(result.requests)],
            ["requests/second", String(result.requestsPerSecond)],
            ["latency p50 (ms)", String(result.latencyMs.p50)],
            ["latency p99 (ms)", String(result.latencyMs.p99)],
            ["latency max (ms)", String(result.latencyMs.max)],
            ["status codes", JSON.stringify(codes)],
        ];
        const width = Math.max(...rows.map(([k]) => k.length));
        process.stdout.write(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n") + "\n");
        process.stdout.write(JSON.stringify(result) + "\n");
    } finally {
        agent.destroy();
        await emulator.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    process.exit(1);
});
