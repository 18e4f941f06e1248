/** `npx imagine-emulator ... &` then `kill $!` stops the emulator: npm's exec shell does not pass the signal on. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { KEY, tempDir } from "./helpers";
import { FIRST_LINE } from "./cli-process";

const ROOT = path.resolve(__dirname, "..", "..");

/** Pids of the processes whose command line holds `marker` (Linux /proc). */
function processesWith(marker: string): number[] {
    const pids: number[] = [];
    for (const e of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
            if (fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(marker)) pids.push(Number(e));
        } catch {
            /* gone meanwhile */
        }
    }
    return pids;
}

async function gone(marker: string, withinMs: number): Promise<number[]> {
    const until = Date.now() + withinMs;
    let left = processesWith(marker);
    while (left.length > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        left = processesWith(marker);
    }
    return left;
}

test("SIGTERM to npx (kill $!) stops the emulator it started, within seconds", async () => {
    const dataDir = tempDir();
    const npx = spawn("npx", ["imagine-emulator", "--port", "0", "--data-dir", dataDir, "--token", KEY], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    });
    try {
        const firstLine = await new Promise<string>((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => reject(new Error("no first line from npx imagine-emulator")), 30_000);
            npx.stdout.on("data", (chunk) => {
                out += chunk;
                if (out.includes("\n")) {
                    clearTimeout(timer);
                    resolve(out.slice(0, out.indexOf("\n")));
                }
            });
        });
        expect(firstLine).toMatch(FIRST_LINE);
        // npm exec, the `sh -c` it runs, and the emulator's node process.
        expect(processesWith(dataDir).length).toBeGreaterThanOrEqual(2);
        npx.kill("SIGTERM");
        expect(await gone(dataDir, 5000)).toEqual([]);
    } finally {
        for (const pid of processesWith(dataDir)) process.kill(pid, "SIGKILL");
    }
});
