import * as fs from "fs";
import * as path from "path";
import { ImagineClient } from "./client";
import { Clock } from "./clock";
import {
    ImagineConflictError,
    ImagineError,
    ImagineVideoNotFoundError,
} from "./errors";
import { DEFAULT_TIMEOUT_MINUTES, imageContentType } from "./inputs";
import { definingDigest, identityOf, Ledger, LedgerEntry, LedgerKey } from "./ledger";
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
    /** The ledger of accepted generations; absent, no generation is recorded nor adopted. */
    ledger?: Ledger;
    /** Warnings (a ledger that cannot be used); defaults to `log`. */
    warn?: (message: string) => void;
}

/** The names of the resource's inputs, as stored among its outputs too. */
export const INPUT_KEYS = [
    "prompt", "style", "aspectRatio", "imagePath", "extraParams",
    "waitForCompletion", "timeoutMinutes", "adoptVideoId", "imageDigest", "identity",
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

    if (typeof inputs.adoptVideoId === "string") {
        const id = inputs.adoptVideoId;
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
        const outs = { ...base, ...statusOutputs(id, status) };
        // An adopted video is recorded as it is, failed or not; only a running one is waited for.
        return { id, outs: status.state === "processing" ? await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx)) : outs };
    }

    const ledger = ctx.ledger;
    const key = ledger ? identityOf(inputs.identity) : undefined;
    if (!ledger || !key) {
        return generate(ctx, inputs, base, deadline, start);
    }
    const digest = definingDigest(inputs);
    const entries = await ledger.find(key);
    // Left by an interrupted create with other inputs (the program changed since): in no stack, so deleted.
    const sweep = sweepLedger(ctx, ledger, key, entries.filter((e) => e.state === "accepted" && e.digest !== digest));
    const same = entries.filter((x) => x.state === "accepted" && x.digest === digest);
    let duplicates: Promise<void> = Promise.resolve();
    try {
        for (const [i, e] of same.entries()) {
            const adopted = await adoptFromLedger(ctx, ledger, key, e, base, inputs, deadline);
            if (adopted) {
                // Older entries of the same inputs (several interrupted ups in a row) are duplicates nobody holds.
                duplicates = sweepLedger(ctx, ledger, key, same.slice(i + 1));
                return adopted;
            }
        }
        return await generate(ctx, inputs, base, deadline, start, { ledger, key, digest });
    } finally {
        await sweep;
        await duplicates;
    }
}

/** A new generation; with a ledger, its id is recorded the moment the vendor accepts it. */
async function generate(
    ctx: OperationContext, inputs: Props, base: Props, deadline: number, start: number,
    record?: { ledger: Ledger; key: LedgerKey; digest: string },
): Promise<{ id: string; outs: Props }> {
    const image = typeof inputs.imagePath === "string" ? readImage(ctx.cwd, inputs.imagePath) : undefined;
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
    // From here on the vendor holds a video: every failure must carry its id back to Pulumi, and
    // until create returns, only the ledger knows it.
    await record?.ledger.accepted(record.key, id, record.digest);
    ctx.log(`video ${id}: generation started (${inputs.style})`);
    const accepted: Props = { ...base, videoId: id, status: "processing" };
    return handOver(record, id, async () => ({ id, outs: await finish(ctx, id, accepted, inputs, deadline, start) }));
}

/**
 * Resumes a video an interrupted create had started with the same inputs, if the vendor still has it;
 * undefined (and the entry dropped) when the vendor no longer knows it.
 */
async function adoptFromLedger(
    ctx: OperationContext, ledger: Ledger, key: LedgerKey, e: LedgerEntry, base: Props, inputs: Props, deadline: number,
): Promise<{ id: string; outs: Props } | undefined> {
    const id = e.videoId;
    ledger.claim(id);
    let status: VideoStatus | undefined;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (err) {
        if (err instanceof ImagineVideoNotFoundError) {
            ctx.log(`video ${id}: in the ledger of accepted generations but gone on the vendor's side; the entry is dropped and a new generation starts`);
            ledger.release(id);
            await ledger.remove(key, id);
            return undefined;
        }
        // Unknown for now: recorded as processing, and the wait below (or the next up) finds out.
        status = undefined;
    }
    ctx.log(`video ${id}: adopted from the ledger of accepted generations (${status?.state ?? "status unknown"}): an interrupted \`pulumi up\` started it, so no new generation is made`);
    const record = { ledger, key, digest: e.digest };
    return handOver(record, id, async () => {
        const outs = status ? { ...base, ...statusOutputs(id, status) } : { ...base, videoId: id, status: "processing" };
        if (status?.state === "failed") {
            throw failedGeneration(id, outs, inputs);
        }
        return { id, outs: status?.state === "finished" ? outs : await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx)) };
    });
}

/** Runs the rest of a create, then marks the entry as handed to the engine, whether it returned or threw. */
async function handOver<T>(record: { ledger: Ledger; key: LedgerKey; digest: string } | undefined, id: string, rest: () => Promise<T>): Promise<T> {
    try {
        return await rest();
    } finally {
        await record?.ledger.handed(record.key, id, record.digest);
    }
}

/**
 * Deletes the videos of ledger entries no create will adopt (started by an interrupted create with
 * inputs since changed). Never throws: a video that cannot be deleted now keeps its entry, and the next
 * create or delete of the resource tries again.
 */
export async function sweepLedger(ctx: OperationContext, ledger: Ledger, key: LedgerKey, stale: LedgerEntry[]): Promise<void> {
    await Promise.all(
        stale.map(async (e) => {
            ledger.claim(e.videoId);
            try {
                ctx.log(`video ${e.videoId}: started by an interrupted \`pulumi up\` with inputs since changed, and in no stack; deleting it`);
                await deleteFromVendor(ctx, e.videoId);
                ledger.release(e.videoId);
                await ledger.remove(key, e.videoId);
            } catch (err) {
                ledger.release(e.videoId);
                (ctx.warn ?? ctx.log)(`video ${e.videoId} (left by an interrupted \`pulumi up\`) could not be deleted: ${describeFailure(err)} It stays in the ledger; the next \`pulumi up\` or \`pulumi destroy\` of ${key.name} tries again.`);
            }
        }),
    );
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

/** `pulumi refresh`: the vendor's view of the video; an empty id when it is gone. */
export async function readVideo(ctx: OperationContext, id: string, props: Props): Promise<{ id: string; props: Props; inputs?: Props }> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    let status: VideoStatus;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (e) {
        if (e instanceof ImagineVideoNotFoundError) {
            ctx.log(`video ${id} no longer exists on the vendor's side`);
            return { id: "", props: {} };
        }
        throw e;
    }
    const outs = { ...withoutVolatile(props), ...statusOutputs(id, status) };
    return { id, props: outs, inputs: pickInputs(props) };
}

/**
 * `pulumi destroy` or removal: delete through the Delete API until the vendor has no such video.
 * Already gone counts as deleted; a busy video is waited for; transient failures are retried within
 * `imagine:deleteTimeoutMinutes`; auth and credit errors fail at once (the resource stays in state).
 */
export async function deleteVideo(ctx: OperationContext, id: string, identity?: LedgerKey): Promise<void> {
    await deleteFromVendor(ctx, id);
    if (ctx.ledger && identity) {
        await ctx.ledger.remove(identity, id);
        // Videos an interrupted create of this resource left behind, never adopted: they go with it.
        const left = (await ctx.ledger.find(identity)).filter((e) => e.state === "accepted");
        await sweepLedger(ctx, ctx.ledger, identity, left);
    }
}

async function deleteFromVendor(ctx: OperationContext, id: string): Promise<void> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    for (;;) {
        try {
            const result = await ctx.client.deleteVideo(id, deadline);
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
            ctx.log(`video ${id}: already gone on the vendor's side`);
            return;
        }
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
        throw failedGeneration(id, result, inputs);
    }
    return result;
}

/** The partial failure of a generation the vendor reports as failed: recorded, replaced by the next up. */
function failedGeneration(id: string, outs: Props, inputs: Props): VideoPartialFailureError {
    const reason = `the Imagine API reports that the generation failed: ${outs.failureReason ?? "no reason given"}.`;
    return new VideoPartialFailureError(
        `video ${id}: ${reason} It is recorded in the stack: the next \`pulumi up\` replaces it with a new ` +
            "generation, `pulumi destroy` deletes it.",
        id,
        { ...outs, __provider: inputs.__provider },
        [reason],
    );
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
                ctx.log(`video ${id}: ${s.vendorStatus ?? s.state} (${elapsed}s elapsed)`);
                return { done: false, progress: s.vendorStatus ?? s.state };
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

function isStillProcessing(e: unknown): boolean {
    if (e instanceof ImagineConflictError) {
        return true;
    }
    return e instanceof ImagineError && e.httpStatus !== undefined && e.httpStatus < 500 &&
        /still processing|in progress|not finished|processing/i.test(e.vendorMessage ?? "");
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
function withoutVolatile(props: Props): Props {
    const out = { ...props };
    for (const k of ["status", "videoUrl", "thumbnailUrl", "createdAt", "failureReason"]) {
        delete out[k];
    }
    delete out.__provider;
    return out;
}

function dropUndefined(o: Props): Props {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function readImage(cwd: string, imagePath: string) {
    const bytes = fs.readFileSync(path.resolve(cwd, imagePath));
    const contentType = imageContentType(bytes) ?? "application/octet-stream";
    return { bytes, filename: path.basename(imagePath), contentType };
}
