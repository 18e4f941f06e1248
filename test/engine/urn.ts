// URNs as the engine computes them: urn:pulumi:<stack>::<project>::<qualified type>::<name>,
// where the qualified type is prefixed by the parent's (non-stack) qualified type and "$".

export const STACK_TYPE = "pulumi:pulumi:Stack";
export const NODEJS_PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

export function urnParts(urn: string): {
    stack: string;
    project: string;
    qualifiedType: string;
    type: string;
    name: string;
} {
    const parts = urn.split("::");
    if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) {
        throw new Error(`malformed URN: ${urn}`);
    }
    const qualifiedType = parts[2];
    const types = qualifiedType.split("$");
    return {
        stack: parts[0].slice("urn:pulumi:".length),
        project: parts[1],
        qualifiedType,
        type: types[types.length - 1],
        name: parts.slice(3).join("::"),
    };
}

export function makeUrn(
    stack: string,
    project: string,
    parentUrn: string | undefined,
    type: string,
    name: string,
): string {
    let qualified = type;
    if (parentUrn) {
        const parent = urnParts(parentUrn);
        if (parent.type !== STACK_TYPE) {
            qualified = `${parent.qualifiedType}$${type}`;
        }
    }
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

export function isDynamicType(type: string): boolean {
    return type === "pulumi-nodejs:dynamic:Resource" || type.startsWith("pulumi-nodejs:dynamic/");
}

/** A provider reference as the engine writes it: "<provider urn>::<provider id>". */
export function parseProviderRef(ref: string): { urn: string; id: string } {
    const i = ref.lastIndexOf("::");
    return { urn: ref.slice(0, i), id: ref.slice(i + 2) };
}
