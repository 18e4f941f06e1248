/**
 * examples/preview-environment copied into a new repository as its root, as its README says: the
 * program, its package.json (installing the packed tarball, the other packages at the versions our
 * lockfile pins) and a lockfile made from ours, `npm ci --offline`, and both workflows in
 * .github/workflows/. The workflows pass the workflow linter and the injection check there, every path
 * they name through PROGRAM_DIR exists (at the root, and with PROGRAM_DIR set for a program in a
 * subfolder), and the steps of the preview job run there: `up` through the engine stand-in against the
 * emulator, `imagine-video download --from-outputs` and `imagine-video preview-comment` from the
 * installed bin, then `destroy`.
 */
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "imagine-api-emulator";
import { EngineStack } from "../engine";
import { acceleratedConfig } from "../lifecycle/stack-harness";
import { injectionFindingsOf, validate, yaml } from "../workflows/lint";
import { consumerLockfile, Tarball } from "./lockfile";
import { lockedVersion, npmEnv, pack, repoLockfile, ROOT } from "./packing";

const EXAMPLE = path.join(ROOT, "examples", "preview-environment");
const TOKEN = "vk-previewREPO0123456789abcdefghijklmnopqrstuvwxyzAB";
const WORKFLOWS = ["preview-videos.yml", "preview-janitor.yml"];

let work: string;
let repo: string;
let provider: Tarball;

type Obj = Record<string, unknown>;

/** Every path a workflow names through PROGRAM_DIR, with the workflow's PROGRAM_DIR, relative to the repository. */
function programPaths(file: string): { cache: string[]; dirs: string[]; workDirs: string[] } {
    const w = yaml.load(fs.readFileSync(file, "utf8")) as Obj;
    const dir = String((w.env as Obj).PROGRAM_DIR);
    const sub = (v: unknown) => String(v).replace("${{ env.PROGRAM_DIR }}", dir);
    const found = { cache: [] as string[], dirs: [] as string[], workDirs: [] as string[] };
    for (const job of Object.values(w.jobs as Record<string, Obj>)) {
        const wd = ((job.defaults as Obj | undefined)?.run as Obj | undefined)?.["working-directory"];
        if (wd !== undefined) found.dirs.push(sub(wd));
        for (const step of (job.steps ?? []) as Obj[]) {
            const withs = (step.with ?? {}) as Obj;
            if (withs["cache-dependency-path"] !== undefined) found.cache.push(sub(withs["cache-dependency-path"]));
            if (withs["work-dir"] !== undefined) found.workDirs.push(sub(withs["work-dir"]));
            if (step["working-directory"] !== undefined) found.dirs.push(sub(step["working-directory"]));
        }
    }
    return found;
}

function copyExample(to: string, workflowsRoot: string, programDir: string): void {
    fs.mkdirSync(to, { recursive: true });
    for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(EXAMPLE, f), path.join(to, f));
    const wf = path.join(workflowsRoot, ".github", "workflows");
    fs.mkdirSync(wf, { recursive: true });
    for (const f of WORKFLOWS) {
        const text = fs.readFileSync(path.join(EXAMPLE, ".github", "workflows", f), "utf8");
        // The one setting for a program in a subfolder.
        fs.writeFileSync(path.join(wf, f), text.replace(/^( {2}PROGRAM_DIR: )\.( |$)/m, `$1${programDir}$2`));
    }
}

beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-preview-repo-"));
    repo = path.join(work, "repo");
    copyExample(repo, repo, ".");
    provider = pack([], repo);
    const repoLock = repoLockfile();
    // The example's own package.json names what the program installs; versions from our lockfile.
    const example = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    const registry = Object.keys(example.dependencies).filter((n) => n !== "pulumi-imagine-video");
    const lock = consumerLockfile(repoLock, Object.fromEntries(registry.map((n) => [n, lockedVersion(n, repoLock)])), [
        provider,
    ]);
    const manifest = {
        ...example,
        dependencies: lock.packages[""].dependencies,
        overrides: (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { overrides?: object })
            .overrides,
    };
    fs.writeFileSync(path.join(repo, "package.json"), JSON.stringify(manifest, null, 2));
    fs.writeFileSync(path.join(repo, "package-lock.json"), JSON.stringify(lock, null, 2));
    execFileSync("npm", ["ci", "--offline"], { cwd: repo, env: npmEnv(), stdio: "pipe" });
}, 600_000);

afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
});

describe.each(WORKFLOWS)("%s, copied to the new repository's .github/workflows/", (name) => {
    const file = () => path.join(repo, ".github", "workflows", name);

    it("passes action-validator and the injection check", () => {
        const r = validate(file());
        expect(r.output).toBe("");
        expect(r.ok).toBe(true);
        expect(injectionFindingsOf(file())).toEqual([]);
    });

    it("finds the program, its lockfile and the imagine-video bin at the root, on Node 22, naming no path of this repository", () => {
        const text = fs.readFileSync(file(), "utf8");
        expect(text).not.toMatch(/examples\//);
        expect(text).toMatch(/node-version: 22\b/);
        const p = programPaths(file());
        expect(p.cache.length).toBeGreaterThan(0);
        for (const c of p.cache) expect(fs.existsSync(path.join(repo, c))).toBe(true);
        for (const d of p.dirs) expect(fs.existsSync(path.join(repo, d, "package-lock.json"))).toBe(true);
        for (const d of p.workDirs) expect(fs.existsSync(path.join(repo, d, "Pulumi.yaml"))).toBe(true);
        expect(fs.existsSync(path.join(repo, "node_modules", ".bin", "imagine-video"))).toBe(true);
    });

    it("with PROGRAM_DIR set, finds a program in a subfolder", () => {
        const other = path.join(work, `sub-${name}`);
        copyExample(path.join(other, "infra", "preview"), other, "infra/preview");
        fs.copyFileSync(
            path.join(repo, "package-lock.json"),
            path.join(other, "infra", "preview", "package-lock.json"),
        );
        const f = path.join(other, ".github", "workflows", name);
        expect(validate(f).ok).toBe(true);
        const p = programPaths(f);
        expect([...p.cache, ...p.dirs, ...p.workDirs].every((x) => x.startsWith("infra/preview"))).toBe(true);
        for (const c of p.cache) expect(fs.existsSync(path.join(other, c))).toBe(true);
        for (const d of [...p.dirs, ...p.workDirs])
            expect(fs.existsSync(path.join(other, d, "Pulumi.yaml"))).toBe(true);
    });
});

it("runs the preview job's steps there: up, download, the comment, then destroy; nothing left", async () => {
    const emulator = await startEmulator({
        dataDir: path.join(work, "emulator"),
        tokens: [TOKEN],
        processingSeconds: 720,
        clockSpeed: 1440,
    });
    try {
        const stack = new EngineStack({
            programDir: repo,
            projectName: "imagine-preview-environment",
            stackName: "pr-7",
            statePath: path.join(work, "state.json"),
            passphrase: "preview passphrase",
            timeoutMs: 120_000,
            env: {
                PULUMI_NODEJS_TRANSPILE_ONLY: "true",
                IMAGINE_API_TOKEN: "",
                IMAGINE_BASE_URL: "",
                PREVIEW_BRANCH: "feature/x",
            },
            config: {
                ...acceleratedConfig(TOKEN, emulator.url),
                "imagine:ledgerPath": { value: path.join(work, "ledger.jsonl") },
            },
        });
        const up = await stack.up();
        expect({ ok: up.ok, errors: up.errors }).toEqual({ ok: true, errors: [] });
        // `pulumi stack output --json --show-secrets`
        const outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
        fs.writeFileSync(path.join(work, "outputs.json"), JSON.stringify(outputs));
        const bin = path.join(repo, "node_modules", ".bin", "imagine-video");
        const env = { ...process.env, IMAGINE_API_TOKEN: TOKEN, IMAGINE_BASE_URL: emulator.url };
        // Not execFileSync: the emulator answers from this process.
        const run = async (args: string[]) => (await promisify(execFile)(bin, args, { cwd: repo, env })).stdout;
        const download = await run([
            "download",
            "--from-outputs",
            path.join(work, "outputs.json"),
            "--to",
            path.join(work, "videos"),
            "--json",
        ]);
        const ids = (outputs.previews as { videoId: string }[]).map((p) => p.videoId);
        expect(ids).toHaveLength(2);
        for (const id of ids) expect(fs.statSync(path.join(work, "videos", `${id}.mp4`)).size).toBeGreaterThan(0);
        const comment = await run([
            "preview-comment",
            "--outputs",
            path.join(work, "outputs.json"),
            "--downloads",
            path.join(work, "videos"),
            "--artifact-url",
            "https://github.com/acme/site/actions/runs/1/artifacts/2",
        ]);
        expect(comment).toContain("| scene-1 | A product teaser");
        expect(comment).toContain("2 of 2 videos ready to watch");
        expect(download + comment).not.toContain(TOKEN);
        expect(comment).not.toContain(emulator.url);

        const destroy = await stack.destroy();
        expect({ ok: destroy.ok, errors: destroy.errors }).toEqual({ ok: true, errors: [] });
        expect((await emulator.stats()).videosStored).toBe(0);
    } finally {
        await emulator.stop();
    }
}, 300_000);
