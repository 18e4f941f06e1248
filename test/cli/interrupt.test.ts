/**
 * The built bin (`bin/imagine-video.js`) as a child process: Ctrl-C (SIGINT) mid-batch stops sending,
 * finishes the deletes in flight, keeps a receipt for every video deleted and lists what was not done
 * (exit 130); and 10,000 ids from a file within the memory figure (peak RSS, read from /proc).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { RunningEmulator } from "imagine-api-emulator";
import { BIN, emulator, envFor, receiptsIn, seed, tempDir } from "./helpers";

let emu: RunningEmulator;
afterEach(async () => {
    await emu?.stop();
});

/** Prints the process's peak RSS (MiB) on stderr as it exits: loaded with `node -r`. */
const PEAK = `process.on("exit", () => { const m = /VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8")); process.stderr.write("peakRssMiB=" + Number(m[1]) / 1024 + "\\n"); });`;

function spawnBin(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
    const preload = path.join(cwd, "peak.js");
    fs.writeFileSync(preload, PEAK);
    const child = spawn(process.execPath, ["-r", preload, BIN, ...args], {
        cwd,
        env: { PATH: process.env.PATH, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const lineWaiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
    child.stdout.on("data", (c) => {
        stdout += c;
        for (const w of lineWaiters.filter((x) => x.test(stdout))) {
            lineWaiters.splice(lineWaiters.indexOf(w), 1);
            w.resolve();
        }
    });
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    /** Resolves once stdout satisfies `test`; fails after `ms`. */
    const until = (test: (s: string) => boolean, ms: number) =>
        new Promise<void>((resolve, reject) => {
            if (test(stdout)) return resolve();
            const timer = setTimeout(() => reject(new Error(`not seen within ${ms} ms; stdout: ${stdout}`)), ms);
            lineWaiters.push({
                test,
                resolve: () => {
                    clearTimeout(timer);
                    resolve();
                },
            });
        });
    return { child, exited, until, out: () => stdout, err: () => stderr };
}

it("Ctrl-C mid-batch: stops sending, finishes what is in flight, a receipt for each deleted video, exit 130", async () => {
    emu = await emulator();
    const ids = await seed(emu, 24);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "ids.txt"), ids.join("\n") + "\n");
    // 480 requests a minute (two per delete: the delete and its status check): about four deletes a second.
    const run = spawnBin(
        ["delete", "--ids-file", "ids.txt"],
        envFor(emu.url, { IMAGINE_REQUESTS_PER_MINUTE: "480" }),
        dir,
    );
    await run.until((s) => (s.match(/"event":"deleted"/g) ?? []).length >= 3, 20_000);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(130);

    const receipts = receiptsIn(path.join(dir, "imagine-deletions.jsonl"));
    const deleted = new Set(receipts.map((r) => String(r.videoId)));
    expect(deleted.size).toBeGreaterThanOrEqual(3);
    expect(deleted.size).toBeLessThan(24);
    // Every receipt is a video really gone; every other video is still there, and listed as not done.
    expect((await emu.stats()).videosStored).toBe(24 - deleted.size);
    const summary = run
        .out()
        .split("\n")
        .filter((l) => l.includes('"summary"'))
        .map((l) => JSON.parse(l) as { deleted: number; notDone: number; interrupted: boolean; failed: string[] })[0];
    expect(summary).toMatchObject({ deleted: deleted.size, interrupted: true, failed: [] });
    expect(summary.deleted + summary.notDone).toBe(24);
    const notDoneFile = fs.readdirSync(dir).find((f) => f.startsWith("imagine-video-not-done-"))!;
    const notDone = fs.readFileSync(path.join(dir, notDoneFile), "utf8").trim().split("\n");
    expect(new Set([...notDone, ...deleted])).toEqual(new Set(ids));
    expect(run.err()).toContain("interrupted: no new delete is sent");
    expect(run.err()).toContain(`not done: ${summary.notDone} id(s)`);
}, 30_000);

it("10,000 ids from a file (and 500 duplicates) within 150 MiB peak RSS: checked, deduplicated through bucket files", async () => {
    emu = await emulator();
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) lines.push(`video-${String(i).padStart(6, "0")}-${"x".repeat(28)}`);
    fs.writeFileSync(path.join(dir, "ids.txt"), [...lines, ...lines.slice(0, 500)].join("\n") + "\n");
    const run = spawnBin(["delete", "--ids-file", "ids.txt", "--dry-run", "--json"], envFor(emu.url), dir);
    expect(await run.exited).toBe(0);
    const events = run
        .out()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; id?: string });
    expect(events.at(-1)).toMatchObject({ event: "summary", dryRun: true, total: 10_000, duplicates: 500 });
    const listed = events.filter((e) => e.event === "would-delete").map((e) => e.id);
    expect(listed).toHaveLength(10_000);
    expect(new Set(listed)).toEqual(new Set(lines));
    const peak = Number(/peakRssMiB=([\d.]+)/.exec(run.err())![1]);
    expect(peak).toBeLessThanOrEqual(150);
}, 30_000);
