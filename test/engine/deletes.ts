// Deleting resources in reverse dependency order (removed resources at the end of `up`, replaced
// resources waiting for their delete, everything on `destroy`). A failed delete leaves the resource and
// everything it depends on in state; independent resources are still deleted.
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

/** Deletes `targets` (entries of the state), dependents first, one at a time. Returns true when all went. */
export async function deleteInReverseOrder(d: Deployment, targets: ResourceState[]): Promise<boolean> {
    const pending = new Set(targets);
    let allOk = true;
    for (;;) {
        let progressed = false;
        // Later entries of the state depend on earlier ones, so walk from the end.
        for (const r of [...pending].reverse()) {
            if (d.stopped) return false;
            // Targets that depend on r and are still in state (not yet deleted, or failed to delete).
            const dependents = targets.filter((o) => o !== r && d.resources.includes(o) && dependenciesOf(o).has(r.urn));
            if (dependents.length === 0) {
                pending.delete(r);
                progressed = true;
                if (!(await deleteOne(d, r))) allOk = false;
            } else if (dependents.every((o) => !pending.has(o))) {
                pending.delete(r); // a dependent failed to go: r must stay too
                progressed = true;
                allOk = false;
            }
        }
        if (!progressed) break;
    }
    return allOk && pending.size === 0;
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
