// A run-time adjustment of the engine stand-in (test/engine) for the chaos run, applied only by
// scripts/chaos.ts and only unless `--no-engine-patch` is given. It is NOT a fix of the provider.
//
// Why: after a failed step, the stand-in stops the program within 5 s and then SIGKILLs the provider
// host (test/engine/stack.ts, `work()` and its `finally`), even while other Create/Update calls are
// still running in it. Those calls end with the gRPC transport error `read ECONNRESET`, and a video the
// provider had already generated (and was waiting for) never reaches the state: it is left on the
// vendor's side. The real Pulumi engine does not do that: after a failed step it starts no new step but
// lets the steps in flight finish and records their results before it shuts the provider down. Under
// chaos (5% failed generations, 500s on generation requests) a failed step while others are in flight is
// the rule, so without this adjustment the run measures the stand-in's leak, not the provider's.
//
// What it changes, to model the engine: `Deployment.fail` records the error at once but raises
// `failed` (which stops the deployment) only once no Create/Update/Delete call is in flight in the
// provider; a registration that arrives meanwhile waits for that moment and is then refused as before.
import { Deployment } from "../test/engine/deployment";
import { ProviderClient } from "../test/engine/provider-client";
import { RegisterHandler } from "../test/engine/register";

let applied = false;

export function applyEnginePatch(): void {
    if (applied) return;
    applied = true;
    let inFlight = 0;
    let waiters: (() => void)[] = [];
    const drained = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r)));
    const settle = () => {
        if (--inFlight === 0) {
            const w = waiters;
            waiters = [];
            for (const f of w) f();
        }
    };

    const proto = ProviderClient.prototype as unknown as { call: (method: string, req: unknown) => Promise<unknown> };
    const call = proto.call;
    proto.call = function (this: unknown, method: string, req: unknown) {
        const p = call.call(this, method, req);
        if (method === "create" || method === "update" || method === "delete") {
            inFlight++;
            p.then(settle, settle);
        }
        return p;
    };

    type D = Deployment & { failPending?: Promise<void> };
    Deployment.prototype.fail = function (this: D, message: string): void {
        this.errors.push(message);
        this.failPending ??= drained().then(() => {
            this.failed = true;
        });
    };

    const rh = RegisterHandler.prototype as unknown as { registerResource: (req: unknown) => Promise<unknown> };
    const register = rh.registerResource;
    rh.registerResource = async function (this: { d: D }, req: unknown) {
        if (this.d.failPending) await this.d.failPending;
        return register.call(this, req);
    };
}
