// What one operation shares: the in-memory state (secrets in plaintext sentinels), the provider
// process (started lazily, configured before its first call), the steps, errors and saving.
import * as crypto from "crypto";
import { Checkpoint, ResourceState } from "./checkpoint";
import { ProviderClient } from "./provider-client";
import { Step, StepOp } from "./summary";
import { urnParts, NODEJS_PROVIDER_TYPE, STACK_TYPE } from "./urn";
import { isSecret, makeSecret, stripSecrets } from "./secrets";

export type Kind = "up" | "preview" | "refresh" | "destroy";

export interface DeploymentContext {
    kind: Kind;
    project: string;
    stack: string;
    state: Checkpoint;
    config: Record<string, { value: string; secret?: boolean }>;
    /** URNs to replace whatever their diff says (`pulumi up --replace <urn>`). */
    replace?: Set<string>;
    save(): void;
    startProvider(): Promise<ProviderClient>;
}

export class Deployment {
    readonly steps: Step[] = [];
    readonly errors: string[] = [];
    /** Set when a step failed: like the engine, no further steps run. */
    failed = false;
    /** Set when the operation is over (finished, failed or timed out): nothing more may run or be saved. */
    stopped = false;
    private provider?: Promise<ProviderClient>;
    private running = 0;
    private idleWaiters: (() => void)[] = [];

    /**
     * Runs one resource step. After a failed step the engine starts no new step, but lets the steps
     * already running finish and records their results before it stops the provider: `idle()` is
     * that moment.
     */
    async track<T>(step: () => Promise<T>): Promise<T> {
        this.running++;
        try {
            return await step();
        } finally {
            if (--this.running === 0) {
                for (const resolve of this.idleWaiters.splice(0)) resolve();
            }
        }
    }

    /** Resolves once no step is running. */
    idle(): Promise<void> {
        return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
    }

    constructor(readonly ctx: DeploymentContext) {}

    get preview(): boolean {
        return this.ctx.kind === "preview";
    }

    get resources(): ResourceState[] {
        return this.ctx.state.deployment.resources;
    }

    /** The live (not pending-delete) state of a URN. */
    live(urn: string): ResourceState | undefined {
        return this.resources.find((r) => r.urn === urn && !r.delete);
    }

    /** The provider process, started and configured with the whole stack config on first use. */
    getProvider(): Promise<ProviderClient> {
        if (this.stopped) return Promise.reject(new Error("the operation has been stopped"));
        if (!this.provider) {
            this.provider = (async () => {
                const p = await this.ctx.startProvider();
                await p.configure(this.ctx.config);
                return p;
            })();
        }
        return this.provider;
    }

    async stopProvider(): Promise<ProviderClient | undefined> {
        if (!this.provider) return undefined;
        const p = await this.provider.catch(() => undefined);
        await p?.stop();
        return p;
    }

    step(op: StepOp, urn: string, changed?: boolean): void {
        if (urnParts(urn).type === NODEJS_PROVIDER_TYPE && urnParts(urn).name.startsWith("default")) return; // default providers are not shown
        const { type, name } = urnParts(urn);
        this.steps.push({ op, urn, type, name, ...(changed !== undefined ? { changed } : {}) });
    }

    /** Records a user-visible error and stops the deployment. */
    fail(message: string): void {
        this.failed = true;
        this.errors.push(message);
    }

    save(): void {
        if (!this.preview && !this.stopped) this.ctx.save();
    }

    put(r: ResourceState): void {
        const i = this.resources.findIndex((x) => x.urn === r.urn && !x.delete);
        if (i >= 0) this.resources[i] = r;
        else this.resources.push(r);
    }

    remove(r: ResourceState): void {
        const i = this.resources.indexOf(r);
        if (i >= 0) this.resources.splice(i, 1);
    }

    /** The engine-synthesized default provider for pulumi-nodejs, as a "<urn>::<id>" reference. */
    defaultProviderRef(): string {
        const urn = `urn:pulumi:${this.ctx.stack}::${this.ctx.project}::${NODEJS_PROVIDER_TYPE}::default`;
        let p = this.live(urn);
        if (!p) {
            p = {
                urn,
                custom: true,
                type: NODEJS_PROVIDER_TYPE,
                id: crypto.randomUUID(),
                inputs: {},
                outputs: {},
                dependencies: [],
            };
            // Providers come before the resources that use them, as in a real checkpoint.
            const stackIdx = this.resources.findIndex((r) => r.type === STACK_TYPE);
            this.resources.splice(stackIdx + 1, 0, p);
        }
        return `${urn}::${p.id}`;
    }
}

export function label(urn: string): string {
    const { type, name } = urnParts(urn);
    return `${type} (${name})`;
}

/** Inputs from Check regain the secretness of the program's inputs (top-level keys), as the engine does. */
export function annotateInputs(
    checked: Record<string, unknown>,
    news: Record<string, unknown>,
): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(checked)) out[k] = isSecret(news[k]) ? makeSecret(stripSecrets(v)) : v;
    return out;
}

/** Outputs are secret when the provider returned them as secret, the same-named input was secret, or listed in additionalSecretOutputs. */
export function annotateOutputs(
    outputs: Record<string, unknown>,
    inputs: Record<string, unknown>,
    secretKeys: string[] = [],
): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) {
        out[k] = isSecret(v) || isSecret(inputs[k]) || secretKeys.includes(k) ? makeSecret(stripSecrets(v)) : v;
    }
    return out;
}

export function errorText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}
