// The one-line resource summary pulumi prints at the end of an operation.
export type StepOp =
    "create" | "update" | "replace" | "delete" | "same" | "read" | "refresh" | "create-replacement" | "delete-replaced";

export interface Step {
    op: StepOp;
    urn: string;
    type: string;
    name: string;
    changed?: boolean;
}

export function summarize(steps: Step[], preview: boolean): string {
    const n = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    for (const s of steps) {
        switch (s.op) {
            case "create":
                n.create++;
                break;
            case "update":
                n.update++;
                break;
            case "replace":
                n.replace++;
                break;
            case "delete":
                n.delete++;
                break;
            case "same":
            case "read":
                n.same++;
                break;
            case "refresh":
                if (s.changed) n.update++;
                else n.same++;
                break;
            default:
                break; // create-replacement / delete-replaced are counted by their "replace" step
        }
    }
    const verb = (done: string, todo: string) => (preview ? todo : done);
    const parts: string[] = [];
    if (n.create) parts.push(`+ ${n.create} ${verb("created", "to create")}`);
    if (n.update) parts.push(`~ ${n.update} ${verb("updated", "to update")}`);
    if (n.replace) parts.push(`+-${n.replace} ${verb("replaced", "to replace")}`);
    if (n.delete) parts.push(`- ${n.delete} ${verb("deleted", "to delete")}`);
    if (n.same) parts.push(`${n.same} unchanged`);
    return `Resources: ${parts.length ? parts.join(", ") : "no changes"}`;
}
