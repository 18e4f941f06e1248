/**
 * Finds GitHub Actions script injection: text that a pull request's (or issue's, or commit's) author
 * controls, interpolated with `${{ }}` into a step's `run:` command or an action's `with:` input,
 * directly or through an `env` variable set from such text. GitHub's security guidance: pass it
 * through `env:` and use it as a shell variable instead.
 */

/** Contexts whose values an outsider chooses (GitHub's list of untrusted input). */
const UNTRUSTED: RegExp[] = [
    /\bgithub\.head_ref\b/,
    /\bgithub\.event\.pull_request\.(title|body|head\.ref|head\.label|head\.repo\.default_branch)\b/,
    /\bgithub\.event\.(issue|discussion)\.(title|body)\b/,
    /\bgithub\.event\.(comment|review|review_comment)\.body\b/,
    /\bgithub\.event\.pages\b/,
    /\bgithub\.event\.commits\b/,
    /\bgithub\.event\.head_commit\.(message|author)\b/,
    /\bgithub\.event\.workflow_run\.(head_branch|head_commit|display_title)\b/,
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const expressions = (text: string): string[] => [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]);

/** Names of `env` entries whose value interpolates untrusted text. */
function taintedEnv(env: unknown): Set<string> {
    const names = new Set<string>();
    if (isObj(env)) {
        for (const [k, v] of Object.entries(env)) {
            if (typeof v === "string" && expressions(v).some((e) => UNTRUSTED.some((re) => re.test(e)))) names.add(k);
        }
    }
    return names;
}

/** One line per `run:` or `with:` value that interpolates untrusted text, naming the job and step. */
export function injectionFindings(workflow: unknown): string[] {
    const findings: string[] = [];
    if (!isObj(workflow) || !isObj(workflow.jobs)) return findings;
    const workflowEnv = taintedEnv(workflow.env);
    for (const [jobName, job] of Object.entries(workflow.jobs)) {
        if (!isObj(job)) continue;
        const jobEnv = new Set([...workflowEnv, ...taintedEnv(job.env)]);
        const check = (where: string, value: unknown, tainted: Set<string>) => {
            if (typeof value !== "string") return;
            for (const e of expressions(value)) {
                const direct = UNTRUSTED.find((re) => re.test(e));
                const viaEnv = [...tainted].find((name) => new RegExp(`\\benv\\.${name}\\b`).test(e));
                if (direct || viaEnv)
                    findings.push(
                        `jobs.${jobName}.${where}: \${{${e}}} interpolates untrusted input; pass it through env: and use the variable`,
                    );
            }
        };
        if (isObj(job.with)) for (const [k, v] of Object.entries(job.with)) check(`with.${k}`, v, jobEnv);
        const steps = Array.isArray(job.steps) ? job.steps : [];
        steps.forEach((step: unknown, i: number) => {
            if (!isObj(step)) return;
            const tainted = new Set([...jobEnv, ...taintedEnv(step.env)]);
            const label = `steps[${i}]${typeof step.name === "string" ? ` (${step.name})` : ""}`;
            check(`${label}.run`, step.run, tainted);
            if (isObj(step.with))
                for (const [k, v] of Object.entries(step.with)) check(`${label}.with.${k}`, v, tainted);
        });
    }
    return findings;
}
