// Deleting resources in reverse dependency order (removed resources at the end of `up`, replaced
// resources waiting for their delete, everything on `destroy`), independent ones in parallel as the
// engine does. A failed delete leaves the resource and everything it depends on in state.
import { ResourceState } from "./checkpoint";
import { Deployment, errorText, label } from "./deployment";
import { ProviderError } from "./provider-client";
import { NODEJS_PROVIDER_TYPE, isDynamicType, parseProviderRef } from "./urn";
import { stripSecrets } from "./secrets";

/** The URNs a resource depends on: parent, dependencies, property dependencies and provider. */
export function dependenciesOf(r: ResourceState): Set<string> {
    const deps = new Set<string>(r.dependencies);
    if (r.parent) deps.add(r.parent);
    for (const urns of Object.values(r.propertyDependencies ?? {})) urns.forEach((u) => deps.add(u));
    if (r.provider) deps.add(parseProviderRef(r.provider).urn);
    return deps;
}

export function protectedMessage(urn: string): string {
    return (
        `unable to delete resource "${urn}"\nas it is currently marked for protection. To unprotect the resource, ` +
        "either remove the `protect` flag from the resource in your Pulumi program and run `pulumi up`, or use the command:\n" +
        `\`pulumi state unprotect '${urn}'\``
    );
}

/**
 * Deletes `targets` (entries of the state) as the engine does: in antichains, dependents before what
 * they depend on, every delete of an antichain in flight at once (`parallel` caps them, like
 * `pulumi destroy --parallel N`; the CLI's default is unbounded). After an antichain with a failed
 * delete no further antichain starts: the failed resource and everything it depends on stay in state.
 * Returns true when every target went.
 */
export async function deleteInReverseOrder(
    d: Deployment,
    targets: ResourceState[],
    parallel = Infinity,
): Promise<boolean> {
    for (const antichain of deleteAntichains(targets)) {
        if (d.stopped) return false;
        const results = await runCapped(antichain, parallel, (r) =>
            d.stopped ? Promise.resolve(false) : deleteOne(d, r),
        );
        if (results.includes(false)) return false;
    }
    return true;
}

/**
 * Groups `targets` into antichains: the first holds every target that no other target depends on,
 * each next one the targets whose dependents are all in earlier antichains.
 */
export function deleteAntichains(targets: ResourceState[]): ResourceState[][] {
    const remaining = new Set(targets);
    const chains: ResourceState[][] = [];
    while (remaining.size > 0) {
        const chain = [...remaining].filter(
            (r) => ![...remaining].some((o) => o !== r && dependenciesOf(o).has(r.urn)),
        );
        if (chain.length === 0) throw new Error("dependency cycle among the resources to delete");
        chain.forEach((r) => remaining.delete(r));
        // Later entries of the state depend on earlier ones: within a chain, start from the end.
        chains.push(chain.reverse());
    }
    return chains;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in the order of `items`. */
async function runCapped<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    };
    const workers = Math.max(1, Math.min(items.length, Number.isFinite(limit) ? limit : items.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
}

async function deleteOne(d: Deployment, r: ResourceState): Promise<boolean> {
    const op = r.delete ? "delete-replaced" : "delete";
    if (r.protect) {
        d.errors.push(`${label(r.urn)}: error: ${protectedMessage(r.urn)}`);
        return false;
    }
    if (d.preview) {
        d.step(op, r.urn);
        return true;
    }
    const needsCall = r.custom && isDynamicType(r.type) && !r.retainOnDelete && !r.external;
    if (r.custom && !needsCall && r.type !== NODEJS_PROVIDER_TYPE && !isDynamicType(r.type)) {
        d.errors.push(`${label(r.urn)}: error: resource type ${r.type} is not modelled by the engine stand-in`);
        return false;
    }
    if (needsCall) {
        try {
            const p = await d.getProvider();
            await p.delete(r.urn, r.id ?? "", stripSecrets(r.outputs) as any, stripSecrets(r.inputs) as any);
        } catch (e) {
            const msg = e instanceof ProviderError ? e.message : errorText(e);
            d.errors.push(`${label(r.urn)}: error: deleting ${r.urn}: ${msg}`);
            return false;
        }
    }
    d.remove(r);
    d.step(op, r.urn);
    d.save();
    return true;
}
