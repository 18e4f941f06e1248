/** Shared helpers of the CLI tests: an emulator with finished videos, and `imagine-video` run in-process with captured output. */
import * as fs from "fs";
import * as path from "path";
import { PassThrough } from "stream";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "imagine-api-emulator";
import { runCli } from "../../provider/cli/main";
import type { CliIo } from "../../provider/cli/io";
import { systemClock } from "../../provider/core/clock";
import { tempDir } from "../emulator/helpers";

export const KEY = "vk-cliTEST0123456789abcdefghijklmnopqrstuvwxyzABCDE";
export const ROOT = path.resolve(__dirname, "..", "..");
export const BIN = path.join(ROOT, "bin", "imagine-video.js");

/** A fresh folder, removed after the test file (the emulator tests' helper). */
export { tempDir };

/** An emulator whose videos finish at once, accelerated (signed links and rate windows in emulated time). */
export async function emulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
    return startEmulator({
        dataDir: path.join(tempDir(), "data"),
        tokens: [KEY],
        processingSeconds: 0,
        clockSpeed: 60,
        credits: 100_000,
        urlTtlSeconds: 100_000_000,
        ...options,
    });
}

/** `n` finished videos on the emulator; their ids. */
export async function seed(emu: RunningEmulator, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
        const form = new FormData();
        form.append("prompt", `cli video ${i}`);
        form.append("style", "fast-svd");
        const r = await fetch(`${emu.url}/v2/video/text-to-video`, {
            method: "POST",
            headers: { authorization: `Bearer ${KEY}` },
            body: form,
        });
        ids.push(((await r.json()) as { id: string }).id);
    }
    return ids;
}

/** The environment of a run against `url`: a fast budget and quick backoff unless overridden. */
export function envFor(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
        IMAGINE_API_TOKEN: KEY,
        IMAGINE_BASE_URL: url,
        IMAGINE_REQUESTS_PER_MINUTE: "60000",
        IMAGINE_MIN_POLL_SECONDS: "0.05",
        IMAGINE_MAX_POLL_SECONDS: "0.2",
        ...extra,
    };
}

export interface Run {
    code: number;
    stdout: string;
    stderr: string;
    /** stdout's JSON lines. */
    events: Record<string, unknown>[];
}

/** Runs `imagine-video argv` in this process; stdout is not a terminal (JSON lines) unless `tty`. */
export async function cli(
    argv: string[],
    env: NodeJS.ProcessEnv,
    cwd: string,
    o: { tty?: boolean; stdin?: string } = {},
): Promise<Run> {
    const stdout = Object.assign(new PassThrough(), { isTTY: o.tty === true });
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    stdin.end(o.stdin ?? "");
    let out = "";
    let err = "";
    stdout.on("data", (c) => (out += c));
    stderr.on("data", (c) => (err += c));
    const io: CliIo = { stdout, stderr, stdin, env, cwd, clock: systemClock };
    const code = await runCli(argv, io);
    const events = o.tty
        ? []
        : out
              .split("\n")
              .filter((l) => l.startsWith("{"))
              .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code, stdout: out, stderr: err, events };
}

export function receiptsIn(file: string): Record<string, unknown>[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function apiRequests(emu: RunningEmulator): Promise<number> {
    const stats = await emu.stats();
    return Object.entries(stats.requests)
        .filter(([r]) => /\/v2\//.test(r))
        .reduce((n, [, by]) => n + Object.values(by).reduce((a, b) => a + b, 0), 0);
}
