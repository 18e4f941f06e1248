// A stack run through a real `pulumi` CLI, for where one is installed. UNEXERCISED HERE: the Pulumi
// CLI cannot be installed on our machines, so no test run of this repository reaches this code; the
// engine stand-in (stack.ts) runs the same programs. Local file backend in a temp folder, passphrase
// secrets provider. Asynchronous, so an emulator in the same process keeps serving while the CLI runs,
// and output can be shown line by line. Config values go through stdin, never on a command line.
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** A real `pulumi` binary on PATH, if any. */
export function findPulumiCli(): string | undefined {
    const exe = process.platform === "win32" ? "pulumi.exe" : "pulumi";
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const f = path.join(dir, exe);
        try {
            fs.accessSync(f, fs.constants.X_OK);
            return f;
        } catch {
            /* not here */
        }
    }
    return undefined;
}

export interface PulumiCliOptions {
    cli: string;
    programDir: string;
    stackName: string;
    backendDir: string;
    passphrase: string;
    config: Record<string, { value: string; secret?: boolean }>;
    /** The environment for the CLI (the caller has already removed what must not leak in). */
    env: NodeJS.ProcessEnv;
    onLine: (line: string) => void;
}

export interface CliOpResult {
    ok: boolean;
    code: number | null;
    output: string;
    summary: string;
}

/** Every CLI process started and still running, so an interrupt can stop them (and their process group). */
const running = new Set<ChildProcess>();

export function stopPulumiCliProcesses(): void {
    for (const p of running) {
        try {
            // Detached: the CLI leads its own process group (its language host and provider plugins).
            if (p.pid !== undefined) process.kill(-p.pid, "SIGTERM");
        } catch {
            /* already gone */
        }
    }
}

export class PulumiCliStack {
    private readonly env: NodeJS.ProcessEnv;

    constructor(private readonly o: PulumiCliOptions) {
        fs.mkdirSync(o.backendDir, { recursive: true });
        this.env = {
            ...o.env,
            PULUMI_HOME: path.join(o.backendDir, "home"),
            PULUMI_BACKEND_URL: `file://${o.backendDir}`,
            PULUMI_CONFIG_PASSPHRASE: o.passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
        };
    }

    /** Login, stack, config. The config values go through stdin, so no value is on a command line. */
    async init(): Promise<CliOpResult> {
        let r = await this.run(["login", `file://${this.o.backendDir}`], { quiet: true });
        if (r.ok) r = await this.run(["stack", "select", this.o.stackName, "--create"], { quiet: true });
        for (const [k, v] of Object.entries(this.o.config)) {
            if (!r.ok) break;
            r = await this.run(
                ["config", "set", ...(v.secret ? ["--secret"] : []), "--stack", this.o.stackName, "--", k],
                { quiet: true, stdin: v.value },
            );
        }
        return r;
    }

    up(): Promise<CliOpResult> {
        return this.run(["up", "--yes", "--skip-preview", "--stack", this.o.stackName]);
    }

    destroy(): Promise<CliOpResult> {
        return this.run(["destroy", "--yes", "--skip-preview", "--stack", this.o.stackName]);
    }

    /** `pulumi stack output --json`: secret outputs come back as the string "[secret]". */
    async outputs(): Promise<Record<string, { value: unknown; secret: boolean }>> {
        const r = await this.run(["stack", "output", "--json", "--stack", this.o.stackName], { quiet: true });
        const res: Record<string, { value: unknown; secret: boolean }> = {};
        if (!r.ok) return res;
        try {
            for (const [k, v] of Object.entries(JSON.parse(r.output) as Record<string, unknown>))
                res[k] = { value: v, secret: v === "[secret]" };
        } catch {
            /* no outputs */
        }
        return res;
    }

    private run(args: string[], o: { quiet?: boolean; stdin?: string } = {}): Promise<CliOpResult> {
        return new Promise((resolve) => {
            const p = spawn(this.o.cli, [...args, "--non-interactive", "--cwd", this.o.programDir], {
                env: this.env,
                stdio: ["pipe", "pipe", "pipe"],
                detached: true,
            });
            running.add(p);
            let output = "";
            let pending = "";
            const onData = (d: string) => {
                output += d;
                if (o.quiet) return;
                const parts = (pending + d).split("\n");
                pending = parts.pop()!;
                for (const l of parts) this.o.onLine(l.replace(/\r$/, ""));
            };
            p.stdout.setEncoding("utf8").on("data", onData);
            p.stderr.setEncoding("utf8").on("data", onData);
            p.stdin.end(o.stdin ?? "");
            const done = (code: number | null) => {
                running.delete(p);
                if (pending && !o.quiet) this.o.onLine(pending);
                resolve({ ok: code === 0, code, output, summary: summaryOf(output) });
            };
            p.on("error", (e) => {
                output += `pulumi: failed to start: ${e.message}\n`;
                done(-1);
            });
            p.on("close", (code) => done(code));
        });
    }
}

/** The CLI's "Resources:" block (e.g. "Resources:\n    + 2 created") as one line. */
export function summaryOf(output: string): string {
    const lines = output.split("\n");
    const i = lines.findIndex((l) => /^Resources:\s*$/.test(l.trim()));
    if (i < 0) return "";
    const parts: string[] = [];
    for (const l of lines.slice(i + 1)) {
        if (!l.trim()) break;
        parts.push(l.trim());
    }
    return `Resources: ${parts.join(", ")}`;
}
