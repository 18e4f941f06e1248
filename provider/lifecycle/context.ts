/** What the lifecycle operations share: their context, the partial failure that records a video, a failure in words. */
import { ImagineClient } from "../api/client";
import { endpointFingerprint, keyFingerprint } from "../api/key-fingerprint";
import { Clock } from "../core/clock";
import { ImagineError } from "../core/errors";
import { ProviderSettings } from "../inputs/settings";
import { Ledger } from "../ledger/ledger";
import { GenerationTimes } from "../polling/generation-times";

/** Everything an operation needs, so tests can give it an injected clock and a fake log. */
export interface OperationContext {
    client: ImagineClient;
    settings: ProviderSettings;
    clock: Clock;
    random?: () => number;
    /** Progress lines for the person running `pulumi up`; never given secrets. */
    log: (message: string) => void;
    /** Where relative image paths are resolved (the program's folder). */
    cwd: string;
    /** Videos being waited for in this process with this key: polls space out as it grows. */
    waits: { inFlight: number };
    /** How long each style's generations took in this process; absent: nothing is learned. */
    learned?: GenerationTimes;
    /** The ledger of accepted generations; absent, no generation is recorded nor adopted. */
    ledger?: Ledger;
    /** Warnings (a ledger that cannot be used); defaults to `log`. */
    warn?: (message: string) => void;
}
/**
 * Thrown from create/update once the vendor has accepted a video, so the provider host reports a
 * partial failure and Pulumi records the video (with these outputs) instead of losing it.
 */
export class VideoPartialFailureError extends Error {
    constructor(
        message: string,
        readonly id: string,
        readonly properties: Record<string, unknown>,
        readonly reasons: string[],
    ) {
        super(message);
        this.name = "VideoPartialFailureError";
    }
}

export type Props = Record<string, unknown>;

/** The fingerprints recorded with a video the current settings make or adopt. */
export function fingerprints(ctx: OperationContext): { keyFingerprint: string; endpointFingerprint: string } {
    return {
        keyFingerprint: keyFingerprint(ctx.settings.token),
        endpointFingerprint: endpointFingerprint(ctx.settings.baseUrl),
    };
}

/** The fingerprint recorded with the video when it is not the current one; undefined when the same, or none was recorded. */
function mismatch(recorded: unknown, current: string): string | undefined {
    return typeof recorded === "string" && recorded !== "" && recorded !== current ? recorded : undefined;
}

/**
 * When the current key is not the one recorded with the video, why a 404 proves nothing (for a
 * message); undefined when it is the same key, or the video predates fingerprints.
 */
export function otherKey(ctx: OperationContext, props: Props): string | undefined {
    const current = keyFingerprint(ctx.settings.token);
    const recorded = mismatch(props.keyFingerprint, current);
    return recorded
        ? `it was made with the API key whose fingerprint is ${recorded}, and the current key's is ${current} (another key cannot see it)`
        : undefined;
}

/**
 * When the current endpoint (imagine:baseUrl) is not the one recorded with the video, why a 404 proves
 * nothing (for a message); undefined when it is the same, or the video predates endpoint fingerprints.
 */
export function otherEndpoint(ctx: OperationContext, props: Props): string | undefined {
    const current = endpointFingerprint(ctx.settings.baseUrl);
    const recorded = mismatch(props.endpointFingerprint, current);
    return recorded
        ? `it was made at the endpoint whose fingerprint is ${recorded}, and imagine:baseUrl (${ctx.settings.baseUrl}) has ${current} ` +
              "(another endpoint does not know its videos, whatever it answers)"
        : undefined;
}

export function describeFailure(e: unknown): string {
    if (e instanceof ImagineError) {
        return e.message;
    }
    return `unexpected error: ${(e as Error)?.message ?? String(e)}`;
}
