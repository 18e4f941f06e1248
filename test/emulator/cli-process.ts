/** Spawns the real CLI (emulator/bin/imagine-emulator.js) and reads its first stdout line. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";

export const BIN = path.join(__dirname, "..", "..", "emulator", "bin", "imagine-emulator.js");
export const FIRST_LINE = /^imagine-emulator listening on (http:\/\/127\.0\.0\.1:(\d+))$/;

export interface CliRun {
    child: ChildProcessWithoutNullStreams;
    firstLine: string;
    url: string;
    stderr(): string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI at `bin` (default: this repository's) with `args`, and waits for its first line. */
export async function spawnCli(args: string[], bin = BIN, options: { cwd?: string } = {}): Promise<CliRun> {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["pipe", "pipe", "pipe"], cwd: options.cwd });
    let err = "";
    child.stderr.on("data", (c) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const firstLine = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`no first line; stderr: ${err}`)), 15_000);
        child.stdout.on("data", (chunk) => {
            out += chunk;
            const nl = out.indexOf("\n");
            if (nl >= 0) {
                clearTimeout(timer);
                resolve(out.slice(0, nl));
            }
        });
        child.once("exit", () => reject(new Error(`exited before its first line; stderr: ${err}`)));
    });
    const match = FIRST_LINE.exec(firstLine);
    return { child, firstLine, url: match ? match[1] : "", stderr: () => err, exited };
}
