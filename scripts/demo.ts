// `npm run demo`: the whole life of one video (pulumi up, wait for the generation, pulumi destroy) of
// the program examples/quickstart, against the embedded emulator, in a few seconds.
//
// With a real `pulumi` CLI on PATH it uses it (file backend in a temp folder); else the engine
// stand-in of test/engine, which runs the real Pulumi program host and dynamic provider host.
// Exit code 0 only when up succeeded and destroy left no video on the emulator. The API token is never
// printed. The emulator, every process started and the temp folder are removed on every exit path,
// including Ctrl-C and SIGTERM.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator, RunningEmulator } from "imagine-api-emulator";
import { EngineStack, findPulumiCli, OperationResult, PulumiCliStack, stopPulumiCliProcesses } from "../test/engine";

const ROOT = path.resolve(__dirname, "..");
const PROGRAM_DIR = path.join(ROOT, "examples", "quickstart");
const PROJECT = "imagine-quickstart";
const STACK = "demo";
/** Emulated seconds of one generation (the vendor's 12 minutes), and emulated seconds per real second. */
const PROCESSING_SECONDS = 720;
const CLOCK_SPEED = 200;
/**
 * Emulated seconds a signed file link stays valid: a week (50 real minutes at 200x). At the vendor's
 * hour a link made by `up` would expire 18 real seconds later, and on a slow machine `destroy` would
 * then prove the delete by a status read instead of the file link the demo shows.
 */
const LINK_TTL_SECONDS = 7 * 86_400;
/** Per operation: everything still running is stopped when it expires. */
const OPERATION_TIMEOUT_MS = 90_000;

// A fresh demo token each run, unless DEMO_API_TOKEN gives one (the test does, to check it never shows).
const TOKEN = process.env.DEMO_API_TOKEN || `vk-demo-${crypto.randomBytes(12).toString("hex")}`;

type Outputs = Record<string, { value: unknown; secret: boolean }>;
interface OpView {
    ok: boolean;
    summary: string;
    errors: string[];
    outputs: Outputs;
}

const started = Date.now();
let tmpRoot: string | undefined;
let emulator: RunningEmulator | undefined;
let cleaning: Promise<void> | undefined;

/** Everything printed goes through here: the token is masked, should any text ever carry it. */
function say(text = ""): void {
    process.stdout.write(redact(text) + "\n");
}
function redact(text: string): string {
    return text.split(TOKEN).join("[secret]");
}
function step(text: string): void {
    say(`\n==> ${text}`);
}
function secs(ms: number): string {
    return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The caller's IMAGINE_* variables (a real token, another base URL, poll timings...) must not reach the
 * provider: the stack config wins over them for the keys the demo sets, but not for the others
 * (e.g. IMAGINE_REQUEST_TIMEOUT_SECONDS). Child processes inherit this process's environment.
 */
function dropImagineEnv(): string[] {
    const names = Object.keys(process.env).filter((k) => k.startsWith("IMAGINE_"));
    for (const k of names) delete process.env[k];
    return names;
}

/** Pids of this process's direct children (Linux /proc), to stop them after an interrupt. */
function ownChildren(): number[] {
    const pids: number[] = [];
    let entries: string[] = [];
    try {
        entries = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
    } catch {
        return pids;
    }
    for (const e of entries) {
        try {
            const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === process.pid) pids.push(Number(e));
        } catch {
            /* gone meanwhile */
        }
    }
    return pids;
}

/** Stops the emulator, any process still running and removes the temp folder. Idempotent. */
function cleanup(interrupted: boolean): Promise<void> {
    cleaning ??= (async () => {
        if (interrupted) {
            stopPulumiCliProcesses();
            for (const pid of ownChildren()) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    /* already gone */
                }
            }
        }
        if (emulator) {
            await emulator.stop().catch(() => undefined);
            emulator = undefined;
        }
        if (tmpRoot) {
            fs.rmSync(tmpRoot, { recursive: true, force: true, maxRetries: 3 });
            tmpRoot = undefined;
        }
    })();
    return cleaning;
}

for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
] as const) {
    process.on(signal, () => {
        say(`\n${signal}: stopping the emulator and every process the demo started, removing its temp folder...`);
        void cleanup(true).finally(() => process.exit(code));
    });
}

function printOutputs(outputs: Outputs): void {
    const id = outputs.videoId;
    const status = outputs.status;
    const url = outputs.url;
    say(`    video id:  ${id ? String(id.value) : "(no output)"}`);
    say(`    status:    ${status ? String(status.value) : "(no output)"}`);
    if (!url) say("    url:       (no output)");
    else if (url.secret)
        say(
            "    url:       [secret]  (a secret output: encrypted in the state; `pulumi stack output url --show-secrets` shows it)",
        );
    else say("    url:       (not marked secret: it should be! value not shown)");
}

function printFailure(what: string, r: OpView, extra?: string): void {
    say(`    ${what} FAILED`);
    for (const e of r.errors) say(`    error: ${e}`);
    if (extra) for (const l of extra.trim().split("\n").slice(-30)) say(`    | ${l}`);
}

async function stats(): Promise<{ videosStored: number; bytesStored: number }> {
    const s = await emulator!.stats();
    return { videosStored: s.videosStored, bytesStored: s.bytesStored };
}

async function main(): Promise<number> {
    say("Imagine video demo: one video's whole life (pulumi up, wait, pulumi destroy) against the embedded emulator.");
    const dropped = dropImagineEnv();
    if (dropped.length)
        say(`(ignoring ${dropped.join(", ")} from your environment: the demo talks to its own emulator only)`);

    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-demo-"));
    const passphrase = crypto.randomBytes(16).toString("hex");

    step("Starting the emulator");
    emulator = await startEmulator({
        dataDir: path.join(tmpRoot, "emulator-data"),
        tokens: [TOKEN],
        port: 0,
        processingSeconds: PROCESSING_SECONDS,
        clockSpeed: CLOCK_SPEED,
        urlTtlSeconds: LINK_TTL_SECONDS,
    });
    say(`    listening at ${emulator.url} (data in a temp folder, a fresh demo token)`);
    say(
        `    a generation takes ${PROCESSING_SECONDS / 60} emulated minutes, like the vendor's; the clock runs ${CLOCK_SPEED}x: ~${(PROCESSING_SECONDS / CLOCK_SPEED).toFixed(1)} real seconds`,
    );

    const config = {
        "imagine:apiToken": { value: TOKEN, secret: true },
        "imagine:baseUrl": { value: emulator.url },
        // The provider plans its polling around when a video should end: tell it the emulator's pace.
        "imagine:expectedMinutes": { value: String(PROCESSING_SECONDS / CLOCK_SPEED / 60) },
        "imagine:minPollSeconds": { value: "0.5" },
        "imagine:maxPollSeconds": { value: "1" },
    };
    const show = (prefix: string) => (line: string) => {
        const l = line.replace(/^info: \[runtime\] /, "").trimEnd();
        if (l.trim()) say(`    ${prefix}${l}`);
    };

    let up: () => Promise<OpView>;
    let destroy: () => Promise<OpView>;
    let details: () => string = () => "";
    const cli = findPulumiCli();
    step("Choosing the engine");
    if (cli) {
        say(`    using the Pulumi CLI at ${cli}, with a local file backend in a temp folder`);
        const demo = new PulumiCliStack({
            cli,
            programDir: PROGRAM_DIR,
            stackName: STACK,
            backendDir: path.join(tmpRoot, "pulumi-backend"),
            passphrase,
            config,
            env: { ...process.env },
            onLine: show("| "),
        });
        fs.mkdirSync(path.join(tmpRoot, "pulumi-backend"));
        let last = "";
        details = () => last;
        const init = await demo.init();
        if (!init.ok) {
            last = init.output;
            printFailure(
                "pulumi stack init / config",
                { ok: false, summary: "", errors: [], outputs: {} },
                init.output,
            );
            return 1;
        }
        up = async () => {
            const r = await demo.up();
            last = r.output;
            return {
                ok: r.ok,
                summary: r.summary,
                errors: r.ok ? [] : [`pulumi up exited with code ${r.code}`],
                outputs: await demo.outputs(),
            };
        };
        destroy = async () => {
            const r = await demo.destroy();
            last = r.output;
            return {
                ok: r.ok,
                summary: r.summary,
                errors: r.ok ? [] : [`pulumi destroy exited with code ${r.code}`],
                outputs: {},
            };
        };
    } else {
        say(
            "    no `pulumi` binary on PATH: using the engine stand-in, which runs the real Pulumi program host and provider host",
        );
        const stack = new EngineStack({
            programDir: PROGRAM_DIR,
            projectName: PROJECT,
            stackName: STACK,
            statePath: path.join(tmpRoot, "checkpoint.json"),
            passphrase,
            config,
            // The program host type-checks the program with ts-node, as under the CLI (about a second here).
            timeoutMs: OPERATION_TIMEOUT_MS,
            onOutput: (line, source) => show(source === "provider" ? "provider | " : "program  | ")(line),
        });
        let last: OperationResult | undefined;
        details = () => (last ? last.stderr : "");
        up = async () => (last = await stack.up());
        destroy = async () => (last = await stack.destroy());
    }

    step(`pulumi up  (program examples/quickstart, stack "${STACK}"; the provider's progress lines follow, live)`);
    let t = Date.now();
    const upResult = await up();
    say(`    ${upResult.summary || "(no summary)"}  [${secs(Date.now() - t)}]`);
    if (!upResult.ok) printFailure("pulumi up", upResult, details());
    else printOutputs(upResult.outputs);

    const before = await stats();
    step("The emulator before destroy");
    say(`    videosStored ${before.videosStored}, bytesStored ${before.bytesStored}`);

    step("pulumi destroy");
    t = Date.now();
    const destroyResult = await destroy();
    say(`    ${destroyResult.summary || "(no summary)"}  [${secs(Date.now() - t)}]`);
    if (!destroyResult.ok) printFailure("pulumi destroy", destroyResult, details());

    const after = await stats();
    step("The emulator after destroy");
    say(`    videosStored ${after.videosStored}, bytesStored ${after.bytesStored}`);

    const problems: string[] = [];
    if (!upResult.ok) problems.push("pulumi up failed");
    if (!destroyResult.ok) problems.push("pulumi destroy failed");
    if (after.videosStored !== 0 || after.bytesStored !== 0)
        problems.push("destroy left a video behind on the emulator");
    if (problems.length) {
        say(`\nFAILED: ${problems.join("; ")} (${secs(Date.now() - started)})`);
        return 1;
    }
    say(
        `\nDone in ${secs(Date.now() - started)}: the video was generated, recorded in the stack, and deleted; nothing is left behind.`,
    );
    return 0;
}

void main()
    .catch((e: unknown) => {
        say(`\nFAILED: ${e instanceof Error ? e.message : String(e)}`);
        return 1;
    })
    .then(async (code) => {
        await cleanup(false);
        process.exit(code);
    });
