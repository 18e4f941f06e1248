/**
 * `imagine-video janitor --stack-prefix pr- --ttl-hours 72 --github-repo OWNER/REPO`: the backstop of
 * preview environments (examples/preview-environment/.github/workflows/preview-janitor.yml). Lists the
 * stacks (`pulumi stack ls --json`); a stack `<prefix>N` whose pull request N is closed or merged
 * (`gh pr view N --repo OWNER/REPO --json state`), or whose last update is older than the TTL, is
 * destroyed (`pulumi destroy --stack S --yes --non-interactive`) and then removed
 * (`pulumi stack rm S --yes --non-interactive`); then `sweep` deletes the ledger's generations that no
 * stack holds. A stack outside the prefix, or whose update is in progress, is never touched. A destroy
 * that fails is reported and its stack kept; the others are still tried, and the exit code is 1.
 * `pulumi` and `gh` are the executables on PATH, run without a shell.
 */
import { execFile } from "node:child_process";
import { parse, str, UsageError } from "./args";
import { CliIo, Output } from "./io";
import { sweepCommand } from "./sweep";

export const JANITOR_HELP = `Usage: imagine-video janitor --stack-prefix pr- --ttl-hours 72 --github-repo OWNER/REPO [--dry-run] [--json]

Destroys and removes the preview stacks that outlived their pull request: of the stacks that
\`pulumi stack ls --json\` lists (in the current folder's project), each named PREFIX<number> whose pull
request is closed or merged (\`gh pr view N --repo OWNER/REPO --json state\`), and each named PREFIX...
not updated for --ttl-hours. Each: \`pulumi destroy --stack S --yes --non-interactive\`, then
\`pulumi stack rm S --yes --non-interactive\`. Then \`imagine-video sweep\`. A stack outside the prefix,
or with an update in progress, is never touched. --dry-run prints the plan and changes nothing.
Needs \`pulumi\` (logged in to the backend) and \`gh\` (GH_TOKEN) on PATH, and IMAGINE_API_TOKEN for sweep.
Options: --stack-prefix TEXT (required), --ttl-hours N (required), --github-repo OWNER/REPO (required),
         --dry-run, --skip-sweep, --json
Exit: 0 all done, 1 a destroy, removal, lookup or the sweep failed (each named; the stack kept), 2 bad usage.`;

/** What `pulumi stack ls --json` prints per stack (the fields used). */
export interface StackSummary {
    name: string;
    lastUpdate?: string;
    updateInProgress?: boolean;
    resourceCount?: number;
}

/** What the janitor does with one stack, and why. */
export interface Decision {
    stack: string;
    action: "destroy" | "keep" | "skip";
    reason: string;
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs an executable from PATH without a shell; never rejects. */
export type Runner = (file: string, args: string[]) => Promise<RunResult>;

export function processRunner(io: CliIo): Runner {
    return (file, args) =>
        new Promise((resolve) => {
            execFile(
                file,
                args,
                { cwd: io.cwd, env: io.env, maxBuffer: 64 * 1024 * 1024, shell: false },
                (error, stdout, stderr) => {
                    const e = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
                    const code = e === null ? 0 : typeof e.code === "number" ? e.code : 127;
                    const spawnProblem = e !== null && typeof e.code === "string" ? `${file}: ${e.code}\n` : "";
                    resolve({ code, stdout: String(stdout), stderr: spawnProblem + String(stderr) });
                },
            );
        });
}

/** The last lines of a command's output, for a report. */
function tail(text: string, lines = 8): string {
    return text.trim().split("\n").slice(-lines).join("\n");
}

/** The stack's own name (`org/project/pr-1` -> `pr-1`). */
const shortName = (name: string) => name.split("/").pop() ?? name;

/** Decides each stack, asking `gh` about the pull request of each candidate. */
export async function plan(
    stacks: StackSummary[],
    o: { prefix: string; ttlMs: number; repo: string; now: number; run: Runner },
): Promise<Decision[]> {
    const decisions: Decision[] = [];
    for (const s of stacks) {
        const name = shortName(s.name);
        if (!name.startsWith(o.prefix)) {
            decisions.push({ stack: s.name, action: "skip", reason: `outside the prefix ${o.prefix}` });
            continue;
        }
        if (s.updateInProgress === true) {
            decisions.push({ stack: s.name, action: "skip", reason: "an update is in progress" });
            continue;
        }
        const updated = s.lastUpdate === undefined ? NaN : Date.parse(s.lastUpdate);
        const idleMs = o.now - updated;
        if (Number.isFinite(idleMs) && idleMs > o.ttlMs) {
            const hours = Math.floor(idleMs / 3_600_000);
            decisions.push({
                stack: s.name,
                action: "destroy",
                reason: `not updated for ${hours} h (TTL ${o.ttlMs / 3_600_000} h)`,
            });
            continue;
        }
        const number = /^(\d+)$/.exec(name.slice(o.prefix.length))?.[1];
        if (number === undefined) {
            decisions.push({
                stack: s.name,
                action: "keep",
                reason: "no pull request number in its name; within the TTL",
            });
            continue;
        }
        const r = await o.run("gh", ["pr", "view", number, "--repo", o.repo, "--json", "state"]);
        let state: string | undefined;
        try {
            state = r.code === 0 ? (JSON.parse(r.stdout) as { state?: string }).state : undefined;
        } catch {
            state = undefined;
        }
        if (state === undefined) {
            decisions.push({
                stack: s.name,
                action: "keep",
                reason: `the state of pull request #${number} is unknown (gh exited ${r.code}: ${tail(r.stderr, 2) || "no answer"})`,
            });
        } else if (state === "CLOSED" || state === "MERGED") {
            decisions.push({
                stack: s.name,
                action: "destroy",
                reason: `pull request #${number} is ${state.toLowerCase()}`,
            });
        } else {
            decisions.push({
                stack: s.name,
                action: "keep",
                reason: `pull request #${number} is ${state.toLowerCase()}`,
            });
        }
    }
    return decisions;
}

export async function janitorCommand(argv: string[], io: CliIo, run: Runner = processRunner(io)): Promise<number> {
    const { values, positionals } = parse(argv, {
        "stack-prefix": { type: "string" },
        "ttl-hours": { type: "string" },
        "github-repo": { type: "string" },
        "dry-run": { type: "boolean" },
        "skip-sweep": { type: "boolean" },
    });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(JANITOR_HELP + "\n");
        return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}".`);
    const prefix = str(values, "stack-prefix");
    const ttl = Number(str(values, "ttl-hours"));
    const repo = str(values, "github-repo");
    if (prefix === undefined || prefix === "") throw new UsageError("--stack-prefix is required (e.g. pr-).");
    if (!(ttl > 0)) throw new UsageError("--ttl-hours must be a number of hours above 0.");
    if (repo === undefined || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo)) {
        throw new UsageError("--github-repo must be OWNER/REPO.");
    }
    const dryRun = values["dry-run"] === true;

    const ls = await run("pulumi", ["stack", "ls", "--json"]);
    let stacks: StackSummary[];
    try {
        if (ls.code !== 0) throw new Error(`exited ${ls.code}`);
        stacks = JSON.parse(ls.stdout) as StackSummary[];
        if (!Array.isArray(stacks)) throw new Error("not a list");
    } catch (e) {
        out.error(`failed: pulumi stack ls --json: ${(e as Error).message}\n${tail(ls.stderr)}`);
        return 1;
    }
    const decisions = await plan(stacks, { prefix, ttlMs: ttl * 3_600_000, repo, now: io.clock.now(), run });
    let failed = decisions.filter((d) => d.action === "keep" && /unknown/.test(d.reason)).length;
    for (const d of decisions) {
        const verb = { destroy: dryRun ? "would destroy" : "destroy", keep: "keep", skip: "skip" }[d.action];
        out.line(`${verb} ${d.stack}: ${d.reason}`);
        out.event({
            event: dryRun && d.action === "destroy" ? "would-destroy" : d.action,
            stack: d.stack,
            reason: d.reason,
        });
    }
    const destroyed: string[] = [];
    const kept: string[] = [];
    if (!dryRun) {
        for (const d of decisions.filter((x) => x.action === "destroy")) {
            const destroy = await run("pulumi", ["destroy", "--stack", d.stack, "--yes", "--non-interactive"]);
            if (destroy.code !== 0) {
                failed++;
                kept.push(d.stack);
                out.event({ event: "failed", stack: d.stack, step: "destroy", code: destroy.code });
                out.error(
                    `failed to destroy ${d.stack} (exit ${destroy.code}); the stack is kept:\n${tail(destroy.stdout + "\n" + destroy.stderr)}`,
                );
                continue;
            }
            const rm = await run("pulumi", ["stack", "rm", d.stack, "--yes", "--non-interactive"]);
            if (rm.code !== 0) {
                failed++;
                kept.push(d.stack);
                out.event({ event: "failed", stack: d.stack, step: "stack rm", code: rm.code });
                out.error(`destroyed ${d.stack}, but removing the stack failed (exit ${rm.code}):\n${tail(rm.stderr)}`);
                continue;
            }
            destroyed.push(d.stack);
            out.event({ event: "removed", stack: d.stack });
            out.line(`destroyed and removed ${d.stack}`);
        }
    }
    let sweepCode = 0;
    if (values["skip-sweep"] !== true) {
        out.line(`${dryRun ? "would run" : "running"}: imagine-video sweep`);
        try {
            sweepCode = await sweepCommand([...(dryRun ? ["--dry-run"] : []), ...(values.json ? ["--json"] : [])], io);
        } catch (e) {
            out.error(`imagine-video sweep: ${(e as Error).message}`);
            sweepCode = 2;
        }
        if (sweepCode !== 0) out.error(`failed: imagine-video sweep exited ${sweepCode}`);
    }
    out.line(
        `${dryRun ? "dry run: " : ""}${decisions.filter((d) => d.action === "destroy").length} to destroy, ` +
            `${destroyed.length} destroyed and removed, ${kept.length} kept after a failure`,
    );
    out.event({ event: "summary", dryRun, destroyed, kept, failed, sweep: sweepCode });
    return failed > 0 || sweepCode !== 0 ? 1 : 0;
}
