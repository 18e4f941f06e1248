// EngineStack: up / preview / refresh / destroy of one stack, each a fresh program process (if the
// operation runs the program) and a fresh provider process, both stopped before the result returns.
import * as path from "path";
import { Checkpoint, crypterFor, decryptCheckpoint, readRawCheckpoint, writeCheckpoint } from "./checkpoint";
import { Deployment, Kind, errorText } from "./deployment";
import { EngineService, Diagnostic } from "./engine-service";
import { MonitorServer } from "./monitor-service";
import { ProviderClient, DYNAMIC_PROVIDER_SCRIPT } from "./provider-client";
import { startProgram, resolveFromProgram } from "./program-runner";
import { RegisterHandler, stackOutputs } from "./register";
import { deleteInReverseOrder } from "./deletes";
import { refreshAll } from "./refresh";
import { Step, summarize } from "./summary";
import { Child } from "./child";
import { NODEJS_PROVIDER_TYPE, STACK_TYPE, parseProviderRef } from "./urn";

export interface ConfigValue {
    value: string;
    secret?: boolean;
}

export interface StackOptions {
    programDir: string;
    projectName: string;
    stackName: string;
    statePath: string;
    config?: Record<string, ConfigValue>;
    env?: Record<string, string>;
    passphrase?: string;
    /**
     * How many deletes may be in flight at once, like `pulumi up/destroy --parallel N`. Default
     * unbounded, as the CLI's (2147483647).
     */
    parallel?: number;
    /** Per operation; everything started is stopped when it expires. Default 120 s. */
    timeoutMs?: number;
    /**
     * Optional: called with each line the program host or a provider host writes (stdout or stderr), as
     * it arrives, e.g. to show a provider's `pulumi.log` lines live. The output is still captured in the
     * result's `stdout` / `stderr`. Exceptions thrown by it are ignored.
     */
    onOutput?: (line: string, source: "program" | "provider") => void;
    /**
     * Optional: the Node binary that runs the program host and the provider hosts (e.g. another Node
     * version than the tests'). Default `process.execPath`.
     */
    nodePath?: string;
}

export interface OperationResult {
    ok: boolean;
    steps: Step[];
    summary: string;
    errors: string[];
    outputs: Record<string, { value: unknown; secret: boolean }>;
    diagnostics: Diagnostic[];
    stdout: string;
    stderr: string;
}

export class EngineStack {
    private config: Record<string, ConfigValue>;
    private readonly passphrase: string;
    private current?: { kill(all: boolean): Promise<void> };

    constructor(readonly opts: StackOptions) {
        this.config = { ...(opts.config ?? {}) };
        this.passphrase = opts.passphrase ?? "";
    }

    setConfig(key: string, v: ConfigValue): void {
        this.config[key] = { ...v };
    }

    /**
     * `pulumi up`; `refresh`: `--refresh`; `replace`: `--replace <urn>` for each URN (forces a replacement of
     * resources that exist, create-before-delete unless the resource asks for delete-before-replace).
     */
    up(o: { refresh?: boolean; replace?: string[] } = {}): Promise<OperationResult> {
        return this.operation("up", o.refresh === true, o.replace);
    }

    /**
     * `kill -9` of the whole deployment in flight (the CLI, the program host and the provider host, as when a CI
     * job is cancelled): both processes die, and the engine writes nothing more to the checkpoint. The
     * operation's promise then settles with ok false. Resolves once the processes are gone.
     */
    async kill(): Promise<void> {
        await this.current?.kill(true);
    }

    /** `kill -9` of the provider process only (the engine goes on, and sees its calls fail). */
    async killProvider(): Promise<void> {
        await this.current?.kill(false);
    }

    /** Whether an operation is in flight (one whose provider or program can be killed). */
    get running(): boolean {
        return this.current !== undefined;
    }
    preview(): Promise<OperationResult> {
        return this.operation("preview", false);
    }
    refresh(): Promise<OperationResult> {
        return this.operation("refresh", false);
    }
    destroy(): Promise<OperationResult> {
        return this.operation("destroy", false);
    }

    /** The checkpoint as stored on disk (secrets encrypted). */
    readState(): Checkpoint {
        return readRawCheckpoint(this.opts.statePath);
    }

    /** The checkpoint with every secret decrypted to {sig, value}, for assertions. */
    decryptedState(): Checkpoint {
        const raw = this.readState();
        return decryptCheckpoint(raw, crypterFor(raw, this.passphrase));
    }

    private async operation(kind: Kind, refreshFirst: boolean, replace: string[] = []): Promise<OperationResult> {
        const programDir = path.resolve(this.opts.programDir);
        const raw = readRawCheckpoint(this.opts.statePath);
        const crypter = crypterFor(raw, this.passphrase);
        const state = decryptCheckpoint(raw, crypter);
        const engine = new EngineService();
        const children: Child[] = [];
        const providers: Child[] = [];
        const providerScript = (() => {
            try {
                return resolveFromProgram(programDir, "@pulumi/pulumi/cmd/dynamic-provider");
            } catch {
                return DYNAMIC_PROVIDER_SCRIPT;
            }
        })();
        let stopped = false;
        const onOutput = this.opts.onOutput;
        const d = new Deployment({
            kind,
            project: this.opts.projectName,
            stack: this.opts.stackName,
            state,
            config: this.config,
            replace: new Set(replace),
            save: () => {
                if (!stopped) writeCheckpoint(this.opts.statePath, state, crypter);
            },
            startProvider: async () => {
                if (stopped) throw new Error("operation stopped");
                const p = await ProviderClient.start(
                    programDir,
                    engineAddress(),
                    { ...process.env, ...this.opts.env },
                    undefined,
                    providerScript,
                    onOutput && ((line) => onOutput(line, "provider")),
                    this.opts.nodePath,
                );
                children.push(p.child);
                providers.push(p.child);
                return p;
            },
        });
        let address = "";
        const engineAddress = () => address;
        const handler = new RegisterHandler(d);
        const monitor = new MonitorServer(handler, engine);
        let program: Child | undefined;
        const timeoutMs = this.opts.timeoutMs ?? 120000;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));

        const work = async (): Promise<boolean> => {
            address = await monitor.start();
            if (kind === "refresh") return refreshAll(d);
            if (kind === "destroy") return deleteInReverseOrder(d, [...d.resources], this.opts.parallel);
            if (refreshFirst && !(await refreshAll(d))) return false;
            program = startProgram({
                programDir,
                project: this.opts.projectName,
                stack: this.opts.stackName,
                monitorAddress: address,
                engineAddress: address,
                dryRun: kind === "preview",
                config: this.config,
                env: this.opts.env,
                onLine: onOutput && ((line) => onOutput(line, "program")),
                nodePath: this.opts.nodePath,
            });
            children.push(program);
            const prog = program;
            const code = await Promise.race([
                prog.exited,
                // After a failed step the engine stops the deployment; give the program a moment to exit.
                (async () => {
                    while (!d.failed && prog.running) await sleep(50);
                    if (prog.running) await Promise.race([prog.exited, sleep(5000)]);
                    return prog.running ? ("stopped" as const) : prog.exited;
                })(),
            ]);
            if (code === "stopped") await program.stop();
            // Steps already running finish and are recorded (a video being made must reach the state).
            await d.idle();
            if (d.failed || d.stopped) return false;
            if (code !== 0) {
                if (!engine.diagnostics.some((x) => x.severity === "error"))
                    d.errors.push(`program exited with code ${code}`);
                return false;
            }
            // Resources the program no longer registers, and replaced ones, go in reverse dependency order.
            const used = new Set(
                d.resources
                    .filter((r) => r.provider && handler.registered.has(r.urn))
                    .map((r) => parseProviderRef(r.provider!).urn),
            );
            const targets = d.resources.filter(
                (r) =>
                    r.delete ||
                    (!handler.registered.has(r.urn) && !(r.type === NODEJS_PROVIDER_TYPE && used.has(r.urn))),
            );
            return deleteInReverseOrder(d, targets, this.opts.parallel);
        };

        this.current = {
            kill: async (all) => {
                if (all) {
                    // The engine dies with them: nothing more reaches the checkpoint.
                    stopped = true;
                    d.stopped = true;
                }
                await Promise.all((all ? children : providers).map((c) => c.stop()));
            },
        };
        let ok = false;
        try {
            const r = await Promise.race([work(), timedOut]);
            if (r === "timeout") d.errors.push(`operation ${kind} timed out after ${timeoutMs} ms`);
            else ok = r;
        } catch (e) {
            d.errors.push(errorText(e));
        } finally {
            this.current = undefined;
            stopped = true;
            d.stopped = true;
            clearTimeout(timer);
            await d.stopProvider();
            await Promise.all(children.map((c) => c.stop()));
            await monitor.stop();
        }
        for (const x of engine.diagnostics)
            if (x.severity === "error" && !d.errors.includes(x.message)) d.errors.push(x.message);
        ok = ok && d.errors.length === 0 && !d.failed;
        // Copies: work cut off by a timeout may still settle later, and must not change this result.
        const stackRes = state.deployment.resources.find((r) => r.type === STACK_TYPE);
        const outs =
            kind === "preview" ? (handler.previewStackOutputs ?? stackRes?.outputs ?? {}) : (stackRes?.outputs ?? {});
        return {
            ok,
            steps: [...d.steps],
            summary: summarize(d.steps, kind === "preview"),
            errors: [...d.errors],
            outputs: stackOutputs(outs),
            diagnostics: [...engine.diagnostics],
            stdout: children.map((c) => c.stdout).join(""),
            stderr: children.map((c) => c.stderr).join(""),
        };
    }
}

function sleep(ms: number): Promise<void> {
    // unref: a pending wait must not keep the test process alive once the operation is over.
    return new Promise((r) => setTimeout(r, ms).unref());
}
