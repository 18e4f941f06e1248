// The chaos run at its small size, as a user runs it (`npm run chaos -- --videos 10`; dist/ is built by
// `pretest`, so the test starts the script the way the npm script does after its build step): faults on
// every route, kill -9 of the emulator during up and during destroy, kill -9 of the provider process during
// up after the vendor accepted generations (the ledger adopts them), and then nothing lost, nothing
// leaked, every error message with an instruction, no token in any output or in the checkpoint, and
// nothing left running or on disk.
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { processesWithMarker, waitUntilGone } from "./process-marker";

const ROOT = path.resolve(__dirname, "..");

it("npm run chaos -- --videos 10: converges through faults and kill -9, loses nothing, leaks nothing, shows no token", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-chaos-test-"));
    const tmp = path.join(work, "tmp");
    fs.mkdirSync(tmp);
    const out = path.join(work, "results.json");
    const checkpoint = path.join(work, "checkpoint-after-up.json");
    const token = `vk-chaosCANARY${crypto.randomBytes(10).toString("hex")}`;
    const marker = crypto.randomBytes(6).toString("hex");
    try {
        const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
            const p = spawn(
                process.execPath,
                [
                    "-r",
                    "ts-node/register/transpile-only",
                    "scripts/chaos.ts",
                    "--videos",
                    "10",
                    "--provider-kills",
                    "1",
                    "--out",
                    out,
                    "--keep-checkpoint",
                    checkpoint,
                ],
                {
                    cwd: ROOT,
                    env: { ...process.env, CHAOS_API_TOKEN: token, CHAOS_TEST_MARKER: marker, TMPDIR: tmp },
                    stdio: ["ignore", "pipe", "pipe"],
                },
            );
            let output = "";
            p.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
            p.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
            p.on("close", (code) => resolve({ code, output }));
        });
        if (run.code !== 0) throw new Error(`chaos run exited ${run.code}:\n${run.output}`);

        const r = JSON.parse(fs.readFileSync(out, "utf8"));
        // The faults' seed is printed and recorded, so a failing run can be drawn again.
        expect(run.output).toContain(`seed ${r.settings.seed} (--seed ${r.settings.seed} draws these faults again)`);
        expect(r.ok).toBe(true);
        expect(r.videos).toBe(10);
        expect(r.recordedInState).toBe(10);
        expect(r.vendorVideosAfterUp).toBe(r.recordedInState);
        expect(r.lostFromState).toBe(0);
        expect(r.leakedAfterDestroy).toBe(0);
        expect(r.bytesAfterDestroy).toBe(0);
        expect(r.killsDuringUp).toBeGreaterThanOrEqual(1);
        expect(r.killsDuringDestroy).toBeGreaterThanOrEqual(1);
        expect(r.providerKillsDuringUp).toBeGreaterThanOrEqual(1);
        // Every video the ledger adopted is one the stack holds, made once.
        expect(r.generationsSavedByLedger).toBeLessThanOrEqual(r.recordedInState - r.adopted);
        expect(r.createdOnVendor).toBeGreaterThanOrEqual(r.recordedInState - r.adopted);
        expect(r.upAttempts).toBeGreaterThanOrEqual(1);
        for (const e of r.distinctErrors) expect(e.instruction).toBe(true);
        expect(Object.values(r.checks).every(Boolean)).toBe(true);
        expect(run.output).toContain("| resources lost from state | 0 |");

        // The token: in no output, no results file, and not in the checkpoint (which does hold the videos).
        const state = fs.readFileSync(checkpoint, "utf8");
        expect(state).toContain("imagine:Video");
        for (const text of [run.output, state, fs.readFileSync(out, "utf8")]) expect(text).not.toContain(token);

        // Nothing left: no process started by the run, nothing in its temp folder but ts-node's shared cache.
        expect(await waitUntilGone("CHAOS_TEST_MARKER", marker)).toEqual([]);
        expect(fs.readdirSync(tmp).filter((n) => !n.startsWith("v8-compile-cache"))).toEqual([]);
    } finally {
        for (const pid of processesWithMarker("CHAOS_TEST_MARKER", marker)) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                /* gone */
            }
        }
        fs.rmSync(work, { recursive: true, force: true });
    }
}, 240_000);
