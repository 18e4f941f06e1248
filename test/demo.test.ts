// `npm run demo` as a user runs it (dist/ is built by `pretest`): the whole lifecycle against the
// embedded emulator, live progress, nothing left behind (processes, temp folders, videos), no token shown,
// and the output the README shows.
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { waitUntilGone } from "./process-marker";

const ROOT = path.resolve(__dirname, "..");

interface Run {
    code: number | null;
    signal: NodeJS.Signals | null;
    output: string;
    lines: { at: number; text: string }[];
}

/**
 * What is left in the TMPDIR given to the demo, except the shared compile cache ts-node (`v8-compile-cache-lib`)
 * keeps in the temp folder across runs, for the program host it registers in.
 */
function leftInTmp(tmp: string): string[] {
    return fs.readdirSync(tmp).filter((n) => !n.startsWith("v8-compile-cache"));
}

function runDemo(
    env: Record<string, string>,
    onLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<Run> {
    return new Promise((resolve) => {
        const p = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/demo.ts"], {
            cwd: ROOT,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const run: Run = { code: null, signal: null, output: "", lines: [] };
        let pending = "";
        p.stdout.setEncoding("utf8").on("data", (d: string) => {
            run.output += d;
            const parts = (pending + d).split("\n");
            pending = parts.pop()!;
            for (const text of parts) {
                run.lines.push({ at: Date.now(), text });
                onLine?.(text, (s) => p.kill(s));
            }
        });
        p.stderr.setEncoding("utf8").on("data", (d: string) => (run.output += d));
        p.on("close", (code, signal) => {
            run.code = code;
            run.signal = signal;
            resolve(run);
        });
    });
}

/** The README's sample of the demo's output: its ```text block that holds `==> Starting the emulator`. */
function readmeSample(): string[] {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = [...readme.matchAll(/^```text\n([\s\S]*?)^```$/gm)].find((m) =>
        m[1].includes("==> Starting the emulator"),
    );
    if (!block) throw new Error("README.md shows no sample of the demo's output");
    return block[1].split("\n");
}

/**
 * Lines without what varies between runs: ids, the port, times and sizes, the engine (a `pulumi` CLI on
 * PATH or the stand-in), the note about the caller's IMAGINE_* variables, blank lines, and how many times
 * a progress line repeats.
 */
function normalizeDemo(lines: string[]): string[] {
    return lines
        .map((l) => l.trimEnd())
        .filter((l) => l.trim() !== "" && !l.startsWith("(ignoring "))
        .map((l) =>
            /no `pulumi` binary on PATH|using the Pulumi CLI at /.test(l)
                ? "    <engine>"
                : l
                      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>")
                      .replace(/http:\/\/127\.0\.0\.1:\d+/g, "<url>")
                      .replace(/\d+(\.\d+)?/g, "N"),
        )
        .filter((l, i, all) => i === 0 || l !== all[i - 1]);
}

describe("npm run demo", () => {
    let tmp: string;
    let marker: string;
    let token: string;
    let leak: string;
    let env: Record<string, string>;

    beforeEach(() => {
        // The demo's own temp folders go under a TMPDIR of the test, so "left behind" can be checked.
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "demo-test-"));
        marker = crypto.randomBytes(8).toString("hex");
        token = `vk-demotest${crypto.randomBytes(8).toString("hex")}`;
        leak = `vk-callerleak${crypto.randomBytes(8).toString("hex")}`;
        env = {
            TMPDIR: tmp,
            DEMO_TEST_MARKER: marker,
            DEMO_API_TOKEN: token,
            // A caller's settings that must not reach the provider.
            IMAGINE_API_TOKEN: leak,
            IMAGINE_BASE_URL: "http://127.0.0.1:9",
            IMAGINE_REQUEST_TIMEOUT_SECONDS: "0.001",
        };
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test("runs up, shows live progress, destroys, leaves nothing behind, never shows the token", async () => {
        const run = await runDemo(env);
        const text = run.output;
        expect({ code: run.code, text }).toEqual({ code: 0, text: expect.any(String) });

        expect(text).toMatch(/no `pulumi` binary on PATH: using the engine stand-in|using the Pulumi CLI at /);
        expect(text).toMatch(/listening at http:\/\/127\.0\.0\.1:\d+/);

        // Progress lines are printed while up runs, well before its summary.
        const progress = run.lines.find((l) => /video \S+: processing \(\d+s elapsed\)/.test(l.text));
        const summary = run.lines.find((l) => l.text.includes("Resources: + 2 created"));
        expect(progress).toBeDefined();
        expect(summary).toBeDefined();
        expect(summary!.at - progress!.at).toBeGreaterThan(300);
        expect(text).toMatch(/video \S+: generation started \(kling-1\.0-pro\)/);

        // The program is examples/quickstart: up generates its one video (+ 2 created: the stack and the
        // video), finished, with a secret url; destroy deletes it (the emulator holds no video and no byte).
        expect(text).toContain("pulumi up  (program examples/quickstart,");
        expect(text).toMatch(/status: +finished/);
        expect(text).toMatch(/url: +\[secret\]/);
        expect(text).toMatch(/before destroy\n +videosStored 1, bytesStored [1-9]\d*/);
        expect(text).toContain("Resources: - 2 deleted");
        expect(text).toMatch(/after destroy\n +videosStored 0, bytesStored 0\n/);
        expect(text).toContain("ignoring IMAGINE_API_TOKEN, IMAGINE_BASE_URL, IMAGINE_REQUEST_TIMEOUT_SECONDS");

        expect(text).not.toContain(token);
        expect(text).not.toContain(leak);
        expect(await waitUntilGone("DEMO_TEST_MARKER", marker)).toEqual([]);
        expect(leftInTmp(tmp)).toEqual([]);

        // The README shows this output: the same lines, ids, times and repeats aside. Its progress lines
        // are the stand-in's (the Pulumi CLI prints its own).
        if (text.includes("using the engine stand-in")) {
            expect(normalizeDemo(run.lines.map((l) => l.text))).toEqual(normalizeDemo(readmeSample()));
        }
    }, 90000);

    test("on SIGTERM while up waits: exits 143, stops everything it started, removes its temp folder", async () => {
        let sent = false;
        const run = await runDemo(env, (line, kill) => {
            if (!sent && /: processing \(\d+s elapsed\)/.test(line)) {
                sent = true;
                kill("SIGTERM");
            }
        });
        expect(sent).toBe(true);
        expect({ code: run.code, text: run.output }).toEqual({
            code: 143,
            text: expect.stringContaining("SIGTERM: stopping"),
        });
        expect(run.output).not.toContain(token);
        expect(await waitUntilGone("DEMO_TEST_MARKER", marker)).toEqual([]);
        expect(leftInTmp(tmp)).toEqual([]);
    }, 90000);
});
