// UNEXERCISED HERE: the Pulumi CLI is not installed on our machines, so nothing in this repository's
// test run calls runWithPulumiCli. Where a real `pulumi` is on PATH it runs the same operations
// through it, with a local file backend in a temp folder and the passphrase secrets provider.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";

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

export interface CliRunOptions {
    programDir: string;
    stackName: string;
    /** Folder for the file backend and PULUMI_HOME; a new temp folder when omitted. Reuse it across operations of one stack. */
    backendDir?: string;
    config?: Record<string, { value: string; secret?: boolean }>;
    passphrase?: string;
    env?: Record<string, string>;
}

export interface CliRunResult { ok: boolean; code: number | null; stdout: string; stderr: string; backendDir: string }

export function runWithPulumiCli(op: "up" | "preview" | "refresh" | "destroy", o: CliRunOptions): CliRunResult {
    const cli = findPulumiCli();
    if (!cli) throw new Error("no pulumi binary on PATH");
    const backendDir = o.backendDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-backend-"));
    const env = {
        ...process.env, ...o.env,
        PULUMI_HOME: path.join(backendDir, "home"),
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: o.passphrase ?? "",
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    let stdout = "";
    let stderr = "";
    const run = (args: string[]) => {
        const r = spawnSync(cli, [...args, "--non-interactive", "--cwd", o.programDir], { env, encoding: "utf8" });
        stdout += r.stdout ?? "";
        stderr += r.stderr ?? "";
        return r.status;
    };
    run(["login", `file://${backendDir}`]);
    if (run(["stack", "select", o.stackName, "--create"]) !== 0) return { ok: false, code: 1, stdout, stderr, backendDir };
    for (const [k, v] of Object.entries(o.config ?? {})) run(["config", "set", ...(v.secret ? ["--secret"] : []), "--stack", o.stackName, "--", k, v.value]);
    const args = op === "preview" ? ["preview"] : [op, "--yes", "--skip-preview"];
    const code = run([...args, "--stack", o.stackName]);
    return { ok: code === 0, code, stdout, stderr, backendDir };
}
