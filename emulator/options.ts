/**
 * The emulator's switches: names, defaults, validation and parsing from CLI strings.
 * One table drives the programmatic options, POST /__emulator/config, the CLI flags and --help.
 */

export type StatusShape = "uuid" | "legacy";
export type CodeFormat = "number" | "string";
export type DeleteWhileProcessing = "accept" | "reject";
/** "current" = /v2/video/{id}/status, "deprecated" = /v2/video/status/{id}, "assets" = /v2/assets/{id}/status */
export type StatusRouteName = "current" | "deprecated" | "assets";
export type DeleteMethod = "DELETE" | "POST";

export interface Switches {
    processingSeconds: number;
    failureRate: number;
    failPromptContains: string;
    statusShape: StatusShape;
    codeFormat: CodeFormat;
    deleteWhileProcessing: DeleteWhileProcessing;
    credits: number;
    rateLimitPerMinute: number;
    rateLimitBurst: number;
    latencyMs: number;
    fault429: number;
    fault500: number;
    fault503: number;
    faultReset: number;
    faultHang: number;
    hangSeconds: number;
    clockSpeed: number;
    disableStatusRoutes: StatusRouteName[];
    deleteMethods: DeleteMethod[];
    dropFirstDelete: boolean;
    deleteLagSeconds: number;
    maxUploadBytes: number;
    outputBytes: number;
    urlTtlSeconds: number;
    seed: number;
    log: boolean;
}

type Kind =
    "number" | "probability" | "string" | "boolean" | { oneOf: readonly string[] } | { listOf: readonly string[] };

interface SwitchSpec {
    kind: Kind;
    help: string;
    min?: number;
    integer?: boolean;
}

export const STATUS_ROUTE_NAMES: readonly StatusRouteName[] = ["current", "deprecated", "assets"];
export const DELETE_METHODS: readonly DeleteMethod[] = ["DELETE", "POST"];

export const DEFAULT_SWITCHES: Readonly<Switches> = Object.freeze({
    processingSeconds: 720,
    failureRate: 0,
    failPromptContains: "",
    statusShape: "uuid",
    codeFormat: "number",
    deleteWhileProcessing: "accept",
    credits: 1000,
    rateLimitPerMinute: 0,
    rateLimitBurst: 0,
    latencyMs: 0,
    fault429: 0,
    fault500: 0,
    fault503: 0,
    faultReset: 0,
    faultHang: 0,
    hangSeconds: 600,
    clockSpeed: 1,
    disableStatusRoutes: [],
    deleteMethods: ["DELETE", "POST"],
    dropFirstDelete: false,
    deleteLagSeconds: 0,
    maxUploadBytes: 10 * 1024 * 1024,
    outputBytes: 4096,
    urlTtlSeconds: 3600,
    seed: 0,
    log: false,
} as Switches);

export const SWITCH_SPECS: Readonly<Record<keyof Switches, SwitchSpec>> = {
    processingSeconds: { kind: "number", min: 0, help: "emulated seconds a generation takes before it ends" },
    failureRate: { kind: "probability", help: "probability (0..1) that a new video ends failed; decided at creation" },
    failPromptContains: { kind: "string", help: "a prompt containing this text always fails (empty = off)" },
    statusShape: {
        kind: { oneOf: ["uuid", "legacy"] },
        help: "status payload shape: uuid (video.status, url strings) or legacy (video.code 1/2/3, url arrays)",
    },
    codeFormat: {
        kind: { oneOf: ["number", "string"] },
        help: "error body `code` as an integer or as a quoted string",
    },
    deleteWhileProcessing: {
        kind: { oneOf: ["accept", "reject"] },
        help: "accept = delete cancels a processing video; reject = 409 until it ends",
    },
    credits: {
        kind: "number",
        min: 0,
        integer: true,
        help: "generations each key may start (1 per video; delete does not refund)",
    },
    rateLimitPerMinute: {
        kind: "number",
        min: 0,
        help: "token-bucket limit of vendor requests per minute per key, in emulated time (0 = off)",
    },
    rateLimitBurst: {
        kind: "number",
        min: 0,
        integer: true,
        help: "requests the rate-limit bucket holds (0 = a whole minute's worth); 1 = strictly paced",
    },
    latencyMs: { kind: "number", min: 0, help: "real milliseconds added before every vendor request is handled" },
    fault429: { kind: "probability", help: "probability of an injected 429/1202 (Retry-After: 1) on a vendor route" },
    fault500: { kind: "probability", help: "probability of an injected plain HTTP 500 with an HTML body" },
    fault503: { kind: "probability", help: "probability of an injected 503/1200 error body" },
    faultReset: { kind: "probability", help: "probability the socket is destroyed without any response" },
    faultHang: { kind: "probability", help: "probability the request is held hangSeconds, then the socket is dropped" },
    hangSeconds: { kind: "number", min: 0, help: "real seconds a hung request is held (faultHang)" },
    clockSpeed: {
        kind: "number",
        min: 0,
        help: "emulated seconds per real second (720: a 12-minute generation takes 1 s)",
    },
    disableStatusRoutes: {
        kind: { listOf: STATUS_ROUTE_NAMES },
        help: "status routes answering the plain route 404: current, deprecated, assets",
    },
    deleteMethods: {
        kind: { listOf: DELETE_METHODS },
        help: "methods the delete route accepts (others get 405): DELETE, POST",
    },
    dropFirstDelete: {
        kind: "boolean",
        help: "the first delete of each video answers 200 but is not applied (status and files still answer)",
    },
    deleteLagSeconds: {
        kind: "number",
        min: 0,
        help: "emulated seconds after an accepted delete before the video and its files are gone (0 = at once)",
    },
    maxUploadBytes: {
        kind: "number",
        min: 0,
        integer: true,
        help: "largest accepted image upload in bytes (larger: 413)",
    },
    outputBytes: { kind: "number", min: 64, integer: true, help: "size in bytes of each generated video file" },
    urlTtlSeconds: { kind: "number", min: 1, help: "emulated seconds a signed file URL stays valid" },
    seed: {
        kind: "number",
        min: 0,
        integer: true,
        help: "seed of the faults' and failures' dice, so a run draws the same sequence (0 = unseeded)",
    },
    log: { kind: "boolean", help: "log method, route and status of each request to stderr" },
};

export const SWITCH_NAMES = Object.keys(SWITCH_SPECS) as (keyof Switches)[];

export class SwitchError extends Error {}

export function kebabCase(name: string): string {
    return name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()).replace(/([a-z])(\d)/g, "$1-$2");
}

function checkNumber(name: string, spec: SwitchSpec, value: unknown): number {
    if (typeof value !== "number" || !Number.isFinite(value)) throw new SwitchError(`${name} must be a finite number`);
    if (spec.kind === "probability" && (value < 0 || value > 1))
        throw new SwitchError(`${name} must be between 0 and 1`);
    if (spec.min !== undefined && value < spec.min) throw new SwitchError(`${name} must be at least ${spec.min}`);
    if (spec.integer && !Number.isInteger(value)) throw new SwitchError(`${name} must be an integer`);
    return value;
}

function checkValue(name: keyof Switches, value: unknown): unknown {
    const spec = SWITCH_SPECS[name];
    const kind = spec.kind;
    if (kind === "number" || kind === "probability") return checkNumber(name, spec, value);
    if (kind === "string") {
        if (typeof value !== "string") throw new SwitchError(`${name} must be a string`);
        return value;
    }
    if (kind === "boolean") {
        if (typeof value !== "boolean") throw new SwitchError(`${name} must be a boolean`);
        return value;
    }
    if ("oneOf" in kind) {
        if (typeof value !== "string" || !kind.oneOf.includes(value)) {
            throw new SwitchError(`${name} must be one of ${kind.oneOf.join(", ")}`);
        }
        return value;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || !kind.listOf.includes(v))) {
        throw new SwitchError(`${name} must be a list of ${kind.listOf.join(", ")}`);
    }
    return [...new Set(value as string[])];
}

/** Validates a partial set of switches (unknown names are rejected) and returns a clean copy. */
export function validateSwitches(input: unknown): Partial<Switches> {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new SwitchError("switches must be a JSON object");
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
        if (!(SWITCH_NAMES as string[]).includes(key)) throw new SwitchError(`unknown switch ${key}`);
        if (value === undefined) continue;
        out[key] = checkValue(key as keyof Switches, value);
    }
    return out;
}

/** Turns the text of a CLI flag into the switch's value, then validates it. */
export function parseSwitchText(name: keyof Switches, texts: string[]): unknown {
    const kind = SWITCH_SPECS[name].kind;
    const last = texts[texts.length - 1];
    let value: unknown = last;
    if (kind === "number" || kind === "probability") value = last.trim() === "" ? NaN : Number(last);
    else if (kind === "boolean") value = last !== "false";
    else if (typeof kind === "object" && "listOf" in kind) {
        value = texts
            .flatMap((t) => t.split(","))
            .map((t) => t.trim())
            .filter((t) => t !== "");
        if (name === "deleteMethods") value = (value as string[]).map((t) => t.toUpperCase());
    }
    return checkValue(name, value);
}

export function resolveSwitches(partial: Partial<Switches>): Switches {
    const clean = validateSwitches(partial);
    return {
        ...DEFAULT_SWITCHES,
        disableStatusRoutes: [],
        deleteMethods: [...DEFAULT_SWITCHES.deleteMethods],
        ...clean,
    };
}

export function describeDefault(name: keyof Switches): string {
    const value = DEFAULT_SWITCHES[name];
    if (Array.isArray(value)) return value.length ? value.join(",") : "(none)";
    if (value === "") return "(off)";
    return String(value);
}
