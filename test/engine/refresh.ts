// Refresh: Read(id, outputs, inputs) for every dynamic resource in state. An empty id means the
// resource is gone and it leaves the state; otherwise outputs (and inputs when returned) are replaced.
import { Deployment, annotateOutputs, errorText, label } from "./deployment";
import { isDynamicType } from "./urn";
import { isSecret, stripSecrets } from "./secrets";

type Props = Record<string, unknown>;

export async function refreshAll(d: Deployment): Promise<boolean> {
    let ok = true;
    for (const r of [...d.resources]) {
        if (d.stopped) return false;
        if (!r.custom || !isDynamicType(r.type)) continue;
        try {
            const p = await d.getProvider();
            const res = await p.read(
                r.urn,
                r.id ?? "",
                stripSecrets(r.outputs) as Props,
                stripSecrets(r.inputs) as Props,
            );
            if (!res.id) {
                d.remove(r);
                d.step("delete", r.urn);
                d.save();
                continue;
            }
            const previouslySecret = Object.keys(r.outputs).filter((k) => isSecret(r.outputs[k]));
            const outputs = annotateOutputs(res.outputs, r.inputs, [
                ...(r.additionalSecretOutputs ?? []),
                ...previouslySecret,
            ]);
            const changed = JSON.stringify(stripSecrets(outputs)) !== JSON.stringify(stripSecrets(r.outputs));
            r.id = res.id;
            r.outputs = outputs;
            if (res.inputs) r.inputs = annotateOutputs(res.inputs, r.inputs);
            d.step("refresh", r.urn, changed);
            d.save();
        } catch (e) {
            ok = false;
            d.errors.push(`${label(r.urn)}: error: refreshing ${r.urn}: ${errorText(e)}`);
        }
    }
    return ok;
}
