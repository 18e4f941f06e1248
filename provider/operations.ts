import * as path from "path";
import { ImagineClient } from "./client";
import { Clock } from "./clock";
import {
    ImagineConflictError,
    ImagineError,
    ImagineOtherKeyError,
    ImagineVideoNotFoundError,
} from "./errors";
import { ImageFile } from "./image-file";
import { DEFAULT_TIMEOUT_MINUTES } from "./inputs";
import { FINGERPRINT_HOWTO, keyFingerprint } from "./key-fingerprint";
import { keepValidLinks } from "./signed-links";
import { ProviderSettings } from "./settings";
import { VideoStatus } from "./status";
import { FIRST_CHECK, nextPollDelay } from "./polling";
import { exponentialDelays, waitUntil } from "./waiter";

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
}

/** The names of the resource's inputs, as stored among its outputs too. */
export const INPUT_KEYS = [
    "prompt", "style", "aspectRatio", "imagePath", "extraParams",
    "waitForCompletion", "timeoutMinutes", "adoptVideoId", "imageDigest", "identity", "protected",
] as const;

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

type Props = Record<string, unknown>;

/** `pulumi up` for a new resource: generate (or adopt), then wait unless told not to. */
export async function createVideo(ctx: OperationContext, inputs: Props): Promise<{ id: string; outs: Props }> {
    const start = ctx.clock.now();
    const deadline = start + timeoutMs(inputs);
    const base = pickInputs(inputs);

    // The key that makes (or adopts) the video, by fingerprint: a later 404 with another key proves nothing.
    const fingerprint = keyFingerprint(ctx.settings.token);
    if (typeof inputs.adoptVideoId === "string" || typeof inputs.adoptVideoId === "number") {
        const id = String(inputs.adoptVideoId);
        let status: VideoStatus;
        try {
            status = await ctx.client.getStatus(id, deadline);
        } catch (e) {
            if (e instanceof ImagineVideoNotFoundError) {
                throw new ImagineVideoNotFoundError(
                    `adoptVideoId: the Imagine API knows no video "${id}" for this API key. Check the id, and that ` +
                        "imagine:apiToken is the key that created it.",
                    { httpStatus: e.httpStatus, vendorCode: e.vendorCode, operation: e.operation },
                );
            }
            throw e;
        }
        ctx.log(`adopted video ${id} (${status.state})`);
        const outs = { ...base, ...statusOutputs(id, status), keyFingerprint: fingerprint };
        // An adopted video is recorded as it is, failed or not; only a running one is waited for.
        return { id, outs: status.state === "processing" ? await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx)) : outs };
    }

    const image = typeof inputs.imagePath === "string" ? imageFile(ctx.cwd, inputs.imagePath, inputs.imageDigest) : undefined;
    const { id } = await ctx.client.createVideo(
        {
            prompt: inputs.prompt as string,
            style: inputs.style as string,
            aspectRatio: inputs.aspectRatio as string | undefined,
            extraParams: inputs.extraParams as Record<string, string> | undefined,
            image,
        },
        deadline,
    );
    ctx.log(`video ${id}: generation started (${inputs.style})`);
    // From here on the vendor holds a video: every failure must carry its id back to Pulumi.
    const accepted: Props = { ...base, videoId: id, status: "processing", keyFingerprint: fingerprint };
    return { id, outs: await finish(ctx, id, accepted, inputs, deadline, start) };
}

/** `pulumi up` with changed waiting options, or a retry of a video whose wait failed earlier. */
export async function updateVideo(ctx: OperationContext, id: string, olds: Props, news: Props): Promise<{ outs: Props }> {
    const deadline = ctx.clock.now() + timeoutMs(news);
    const outs: Props = { ...withoutInputs(olds), ...pickInputs(news) };
    if (olds.status !== "processing" || news.waitForCompletion === false) {
        return { outs };
    }
    return { outs: await finish(ctx, id, outs, news, deadline, startedLongAgo(ctx)) };
}

/**
 * `pulumi refresh`: the vendor's view of the video; an empty id when it is gone. A 404 seen with
 * another key than the one that made the video proves nothing: the video is kept as it is. Stored
 * file links are kept while valid, so an unchanged video refreshes without a change.
 */
export async function readVideo(ctx: OperationContext, id: string, props: Props): Promise<{ id: string; props: Props; inputs?: Props }> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    let status: VideoStatus;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (e) {
        if (e instanceof ImagineVideoNotFoundError) {
            const other = otherKey(ctx, props);
            if (other) {
                ctx.log(`video ${id}: the Imagine API says it does not exist, but ${other}; kept in the stack unchanged`);
                return { id, props: withoutProvider(props), inputs: pickInputs(props) };
            }
            ctx.log(`video ${id} no longer exists on the vendor's side`);
            return { id: "", props: {} };
        }
        throw e;
    }
    const fresh = statusOutputs(id, status);
    const links = keepValidLinks(props, fresh, ctx.clock.now());
    const outs = withoutProvider(props);
    // Keys keep their places, so a refresh that changes nothing writes the same outputs.
    for (const k of VOLATILE) {
        const v = k === "videoUrl" || k === "thumbnailUrl" ? links[k] : fresh[k];
        if (v === undefined) {
            delete outs[k];
        } else {
            outs[k] = v;
        }
    }
    return { id, props: outs, inputs: pickInputs(props) };
}

/**
 * When the current key is not the one recorded with the video, why a 404 proves nothing (for a
 * message); undefined when it is the same key, or the video predates fingerprints.
 */
function otherKey(ctx: OperationContext, props: Props): string | undefined {
    const recorded = props.keyFingerprint;
    const current = keyFingerprint(ctx.settings.token);
    if (typeof recorded !== "string" || recorded === "" || recorded === current) {
        return undefined;
    }
    return `it was made with the API key whose fingerprint is ${recorded}, and the current key's is ${current} ` +
        "(another key cannot see it)";
}

/**
 * `pulumi destroy` or removal: delete through the Delete API until the vendor has no such video.
 * Already gone counts as deleted; a busy video is waited for; transient failures are retried within
 * `imagine:deleteTimeoutMinutes`; auth and credit errors fail at once (the resource stays in state).
 */
export async function deleteVideo(ctx: OperationContext, id: string, props: Props = {}): Promise<void> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    for (;;) {
        try {
            const result = await ctx.client.deleteVideo(id, deadline);
            if (result === "already-gone") {
                refuseOtherKeysNotFound(ctx, id, props);
            }
            ctx.log(result === "deleted" ? `video ${id}: deleted` : `video ${id}: already gone on the vendor's side`);
            return;
        } catch (e) {
            if (!isStillProcessing(e)) {
                throw e;
            }
        }
        ctx.log(`video ${id}: the vendor will not delete it while it is processing; waiting for the job to end`);
        const gone = await waitUntil(
            async () => {
                try {
                    const s = await ctx.client.getStatus(id, deadline);
                    return s.state === "processing" ? { done: false, progress: s.vendorStatus ?? s.state } : { done: true, value: false };
                } catch (err) {
                    if (err instanceof ImagineVideoNotFoundError) {
                        return { done: true, value: true };
                    }
                    throw err;
                }
            },
            { delayMs: backoffDelays(ctx), deadlineMs: deadline, clock: ctx.clock, description: `video ${id} to stop processing before deleting it` },
        );
        if (gone) {
            refuseOtherKeysNotFound(ctx, id, props);
            ctx.log(`video ${id}: already gone on the vendor's side`);
            return;
        }
    }
}

/** Destroy with another key than the video's: "not found" is no proof, so fail and keep it in the stack. */
function refuseOtherKeysNotFound(ctx: OperationContext, id: string, props: Props): void {
    const other = otherKey(ctx, props);
    if (other) {
        throw new ImagineOtherKeyError(
            `video ${id}: the Imagine API says it does not exist, but ${other}. It stays in the stack. Set imagine:apiToken ` +
                `(or IMAGINE_API_TOKEN) to the key with fingerprint ${props.keyFingerprint} and run the command again (${FINGERPRINT_HOWTO}). ` +
                "If that key no longer exists and the video is gone, remove it from the stack with `pulumi state delete <urn>`.",
            { httpStatus: 404 },
        );
    }
}

/** Waits for the video when asked to, turning every failure after acceptance into a partial failure. */
async function finish(ctx: OperationContext, id: string, outs: Props, inputs: Props, deadline: number, startedMs: number): Promise<Props> {
    const withProvider = (o: Props) => ({ ...o, __provider: inputs.__provider });
    if (inputs.waitForCompletion === false) {
        return outs;
    }
    let status: VideoStatus;
    try {
        status = await waitForVideo(ctx, id, deadline, startedMs);
    } catch (e) {
        const reason = describeFailure(e);
        throw new VideoPartialFailureError(
            `video ${id}: ${reason} The video is recorded in the stack: \`pulumi up\` waits for it again, ` +
                "`pulumi destroy` deletes it.",
            id,
            withProvider(outs),
            [reason],
        );
    }
    const result = { ...outs, ...statusOutputs(id, status) };
    if (status.state === "failed") {
        const reason = `the Imagine API reports that the generation failed: ${status.message ?? "no reason given"}.`;
        throw new VideoPartialFailureError(
            `video ${id}: ${reason} It is recorded in the stack: the next \`pulumi up\` replaces it with a new ` +
                "generation, `pulumi destroy` deletes it.",
            id,
            withProvider(result),
            [reason],
        );
    }
    return result;
}

/**
 * Polls the status until the video is finished or failed; throws on timeout or a hard error.
 * `startedMs` is when the generation started (clock ms): the schedule is planned from it.
 */
export async function waitForVideo(ctx: OperationContext, id: string, deadlineMs: number, startedMs = ctx.clock.now()): Promise<VideoStatus> {
    const schedule = {
        expectedMs: ctx.settings.expectedMs,
        minDelayMs: ctx.settings.minPollMs,
        maxDelayMs: ctx.settings.maxPollMs,
        requestsPerMinute: ctx.settings.requestsPerMinute,
    };
    const offset = ctx.clock.now() - startedMs;
    ctx.waits.inFlight++;
    try {
        return await waitUntil<VideoStatus>(
            async () => {
                const s = await ctx.client.getStatus(id, deadlineMs);
                if (s.state !== "processing") {
                    return { done: true, value: s };
                }
                const elapsed = Math.round((ctx.clock.now() - startedMs) / 1000);
                ctx.log(`video ${id}: ${s.progress} (${elapsed}s elapsed)`);
                return { done: false, progress: s.progress };
            },
            {
                delayMs: (_attempt, elapsedMs) => nextPollDelay(offset + elapsedMs, ctx.waits.inFlight, schedule, ctx.random),
                deadlineMs,
                clock: ctx.clock,
                description: `video ${id} to finish`,
            },
        );
    } finally {
        ctx.waits.inFlight--;
    }
}

/** A start time for a video whose start is unknown (adopted, or resumed): check it from now on. */
function startedLongAgo(ctx: OperationContext): number {
    return ctx.clock.now() - ctx.settings.expectedMs * FIRST_CHECK;
}

/** Pauses for waits that are not a generation's (a busy video before a delete). */
function backoffDelays(ctx: OperationContext) {
    return exponentialDelays({ minDelayMs: ctx.settings.minPollMs, maxDelayMs: ctx.settings.maxPollMs, initialDelayMs: ctx.settings.minPollMs }, ctx.random);
}

/**
 * A 409, or a 4xx whose vendor message says the video is still being generated. Narrow on purpose:
 * "Error processing request" is a refusal, not a busy video, and must not make delete wait.
 */
export function isStillProcessing(e: unknown): boolean {
    if (e instanceof ImagineConflictError) {
        return true;
    }
    return e instanceof ImagineError && e.httpStatus !== undefined && e.httpStatus >= 400 && e.httpStatus < 500 &&
        /\b(still|currently|is being|being) (processing|generat\w*|in progress|rendering|running)\b|\b(not (yet )?(finished|complete|completed|done)|in progress)\b/i.test(e.vendorMessage ?? "");
}

function describeFailure(e: unknown): string {
    if (e instanceof ImagineError) {
        return e.message;
    }
    return `unexpected error: ${(e as Error)?.message ?? String(e)}`;
}

function statusOutputs(id: string, s: VideoStatus): Props {
    return dropUndefined({
        videoId: id,
        status: s.state,
        videoUrl: s.videoUrl,
        thumbnailUrl: s.thumbnailUrl,
        createdAt: s.createdAt,
        failureReason: s.state === "failed" ? (s.message ?? "no reason given") : undefined,
    });
}

function timeoutMs(inputs: Props): number {
    const minutes = typeof inputs.timeoutMinutes === "number" ? inputs.timeoutMinutes : DEFAULT_TIMEOUT_MINUTES;
    return minutes * 60_000;
}

function pickInputs(props: Props): Props {
    const out: Props = {};
    for (const k of INPUT_KEYS) {
        if (props[k] !== undefined && props[k] !== null) {
            out[k] = props[k];
        }
    }
    return out;
}

function withoutInputs(props: Props): Props {
    const out: Props = { ...props };
    for (const k of INPUT_KEYS) {
        delete out[k];
    }
    delete out.__provider;
    return out;
}

/** Outputs that a refresh recomputes from the vendor's answer (a URL can disappear, say). */
const VOLATILE = ["status", "videoUrl", "thumbnailUrl", "createdAt", "failureReason"] as const;

function withoutProvider(props: Props): Props {
    const out = { ...props };
    delete out.__provider;
    return out;
}

function dropUndefined(o: Props): Props {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The image as check recorded it; its bytes are read when the request is sent (see image-file.ts). */
function imageFile(cwd: string, imagePath: string, digest: unknown): ImageFile {
    return { path: path.resolve(cwd, imagePath), imagePath, filename: path.basename(imagePath), digest: typeof digest === "string" ? digest : "" };
}
