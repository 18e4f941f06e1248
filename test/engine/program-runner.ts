// Runs a Pulumi program through the real program host (`@pulumi/pulumi/cmd/run`), with the flags and
// environment the nodejs language host gives it.
import * as fs from "fs";
import * as path from "path";
import { Child } from "./child";

export interface ProgramSpec {
    programDir: string;
    project: string;
    stack: string;
    monitorAddress: string;
    engineAddress: string;
    dryRun: boolean;
    config: Record<string, { value: string; secret?: boolean }>;
    env?: Record<string, string>;
    /** Each line of the program's output, live (optional). */
    onLine?: (line: string) => void;
    /** The Node binary that runs the program host (optional; default the one running this process). */
    nodePath?: string;
}

/** The few Pulumi.yaml fields that matter here (`main`, runtime options `typescript` / `tsconfig`). */
export function readProjectFile(programDir: string): {
    name?: string;
    main?: string;
    typescript: boolean;
    tsconfig?: string;
} {
    const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(programDir, f)).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`no Pulumi.yaml in ${programDir}`);
    const text = fs.readFileSync(file, "utf8");
    const field = (re: RegExp) =>
        re
            .exec(text)?.[1]
            ?.trim()
            .replace(/^["']|["']$/g, "");
    return {
        name: field(/^name:\s*(.+)$/m),
        main: field(/^main:\s*(.+)$/m),
        typescript: field(/^\s+typescript:\s*(\S+)/m) !== "false",
        tsconfig: field(/^\s+tsconfig:\s*(.+)$/m),
    };
}

/** Resolves an SDK entry point the way the language host and provider shim do: from the program's folder. */
export function resolveFromProgram(programDir: string, request: string): string {
    return require.resolve(request, { paths: [programDir] });
}

export function startProgram(spec: ProgramSpec): Child {
    const project = readProjectFile(spec.programDir);
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries(spec.config)) {
        config[k] = v.value;
        if (v.secret) secretKeys.push(k);
    }
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...spec.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
        PULUMI_NODEJS_TYPESCRIPT: String(project.typescript),
    };
    if (project.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = project.tsconfig;
    const args = [
        resolveFromProgram(spec.programDir, "@pulumi/pulumi/cmd/run"),
        `--monitor=${spec.monitorAddress}`,
        `--engine=${spec.engineAddress}`,
        `--project=${spec.project}`,
        `--stack=${spec.stack}`,
        `--organization=organization`,
        `--pwd=${spec.programDir}`,
        `--root-directory=${spec.programDir}`,
        `--parallel=16`,
    ];
    if (spec.dryRun) args.push("--dry-run");
    // Like the language host: the `main` of Pulumi.yaml, else "." (then cmd/run uses the nearest package.json's main).
    args.push(project.main ?? ".");
    const onLine = spec.onLine;
    return new Child("program", args, {
        cwd: spec.programDir,
        env,
        onLine: onLine && ((line) => onLine(line)),
        nodePath: spec.nodePath,
    });
}
