/**
 * The package as a user installs it: both tarballs (`npm pack` of the provider and of the emulator)
 * installed with `npm ci --offline` into a program outside this repository, from the npm cache that
 * the repository's `npm ci` filled. The quickstart program then runs from there through the engine
 * stand-in against the emulator started from its own installed bin: up, destroy, nothing left.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineStack } from "../engine";
import { spawnCli, type CliRun } from "../emulator/cli-process";
import { acceleratedConfig } from "../lifecycle/stack-harness";
import { consumerLockfile, Lockfile, Tarball } from "./lockfile";
import { localPrebuild, lockedVersion, npmEnv, pack, repoLockfile, ROOT } from "./packing";

const TOKEN = "vk-consumerCANARY0123456789abcdefghijklmnopqrstuv";
/** What a Pulumi TypeScript program has besides this package (versions from this repository's lockfile). */
const PROGRAM_DEPS = ["@pulumi/pulumi", "typescript", "ts-node"];
/** The most packages the provider may bring into a program (itself aside) besides the Pulumi SDK's own tree. */
const MAX_OWN_PACKAGES = 25;

const repoLock = repoLockfile();
const versionOf = (name: string) => lockedVersion(name, repoLock);

/** Every file below `dir` whose name matches `re`. */
function findFiles(dir: string, re: RegExp): string[] {
    const found: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) found.push(...findFiles(p, re));
        else if (re.test(e.name)) found.push(p);
    }
    return found;
}

let work: string;
let program: string;
let provider: Tarball;
let emulatorTarball: Tarball;
let lock: Lockfile;
let emulator: CliRun | undefined;

beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-consumer-"));
    program = path.join(work, "program");
    fs.mkdirSync(program);
    provider = pack([], program);
    emulatorTarball = pack(["--workspace", "imagine-api-emulator"], program);
    for (const f of ["Pulumi.yaml", "index.ts"])
        fs.copyFileSync(path.join(ROOT, "examples", "quickstart", f), path.join(program, f));
    const registryDeps = Object.fromEntries(PROGRAM_DEPS.map((n) => [n, versionOf(n)]));
    lock = consumerLockfile(repoLock, registryDeps, [provider, emulatorTarball]);
    const manifest = {
        name: "consumer",
        version: "1.0.0",
        private: true,
        dependencies: lock.packages[""].dependencies,
        // The program installs from a lockfile derived from ours, so it carries our overrides too (cookie
        // 1.1.1 under the emulator's fastify: the release that supports Node 20; see the README).
        overrides: (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { overrides?: object })
            .overrides,
        allowScripts: { "better-sqlite3": true },
    };
    fs.writeFileSync(path.join(program, "package.json"), JSON.stringify(manifest, null, 2));
    fs.writeFileSync(path.join(program, "package-lock.json"), JSON.stringify(lock, null, 2));
    execFileSync("npm", ["ci", "--offline"], {
        cwd: program,
        env: { ...npmEnv(), ...localPrebuild(path.join(work, "prebuilds")) },
        stdio: "pipe",
    });
}, 600_000);

afterAll(async () => {
    if (emulator) {
        emulator.child.kill("SIGTERM");
        await emulator.exited;
    }
    fs.rmSync(work, { recursive: true, force: true });
});

describe("the provider as a program installs it", () => {
    it(`brings at most ${MAX_OWN_PACKAGES} packages besides the Pulumi SDK, no native module and no install script`, () => {
        const sdkOnly = new Set(
            Object.keys(consumerLockfile(repoLock, { "@pulumi/pulumi": versionOf("@pulumi/pulumi") }, []).packages),
        );
        const withProvider = consumerLockfile(repoLock, { "@pulumi/pulumi": versionOf("@pulumi/pulumi") }, [
            provider,
        ]).packages;
        const own = Object.keys(withProvider).filter(
            (k) => k !== "" && !sdkOnly.has(k) && k !== "node_modules/pulumi-imagine-video",
        );
        expect(own).toContain("node_modules/axios");
        expect(own.length).toBeLessThanOrEqual(MAX_OWN_PACKAGES);
        expect(own.filter((k) => withProvider[k].hasInstallScript)).toEqual([]);
        for (const k of own) {
            const dir = path.join(program, k);
            if (fs.existsSync(dir)) expect(findFiles(dir, /\.node$|^binding\.gyp$/)).toEqual([]);
        }
        expect(Object.keys(provider.manifest.dependencies ?? {})).not.toContain("better-sqlite3");
        expect(Object.keys(provider.manifest.dependencies ?? {})).not.toContain("fastify");
    });

    it("resolves pulumi-imagine-video/v1 from the program's own node_modules, outside this repository", () => {
        const resolved = require.resolve("pulumi-imagine-video/v1", { paths: [program] });
        expect(resolved.startsWith(path.join(program, "node_modules", "pulumi-imagine-video") + path.sep)).toBe(true);
        expect(fs.lstatSync(path.join(program, "node_modules", "pulumi-imagine-video")).isSymbolicLink()).toBe(false);
        expect(path.relative(ROOT, resolved).startsWith("..")).toBe(true);
    });

    it("runs the quickstart through up and destroy against the emulator installed from its tarball, leaving nothing", async () => {
        const bin = path.join(program, "node_modules", ".bin", "imagine-emulator");
        expect(fs.realpathSync(bin).startsWith(path.join(program, "node_modules", "imagine-api-emulator"))).toBe(true);
        emulator = await spawnCli(
            [
                "--port",
                "0",
                "--data-dir",
                path.join(work, "emulator-data"),
                "--token",
                TOKEN,
                "--processing-seconds",
                "720",
                "--clock-speed",
                "1440",
            ],
            fs.realpathSync(bin),
            { cwd: program },
        );
        expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

        const stack = new EngineStack({
            programDir: program,
            projectName: "imagine-quickstart",
            stackName: "consumer",
            statePath: path.join(work, "state.json"),
            passphrase: "consumer passphrase",
            timeoutMs: 120_000,
            env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true", IMAGINE_API_TOKEN: "", IMAGINE_BASE_URL: "" },
            config: acceleratedConfig(TOKEN, emulator.url),
        });
        const up = await stack.up();
        expect({ ok: up.ok, errors: up.errors }).toEqual({ ok: true, errors: [] });
        expect(up.outputs.status.value).toBe("finished");
        const stats = () =>
            fetch(`${emulator!.url}/__emulator/stats`).then((r) => r.json() as Promise<{ videosStored: number }>);
        expect((await stats()).videosStored).toBe(1);

        const destroy = await stack.destroy();
        expect({ ok: destroy.ok, errors: destroy.errors }).toEqual({ ok: true, errors: [] });
        expect((await stats()).videosStored).toBe(0);
        expect(stack.readState().deployment.resources).toEqual([]);
        expect(up.stdout + up.stderr + destroy.stdout + destroy.stderr).not.toContain(TOKEN);
    }, 300_000);
});
