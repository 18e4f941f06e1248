/** The lifecycle operations of a video (create or adopt, wait, read, update, delete) on the API client. */
import * as fs from "fs";
import * as path from "path";
import { ImagineClient } from "./client";
import { Clock } from "./clock";
import { checkGone, storedFileUrl } from "./delete-verification";
import { appendReceipt, DeletionReceipt, identityOf, Verification } from "./deletion-log";
import {
    ImagineConflictError,
    ImagineDeleteNotConfirmedError,
    ImagineError,
    ImagineVideoNotFoundError,
} from "./errors";
import { DEFAULT_TIMEOUT_MINUTES, imageContentType } from "./inputs";
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
    ctx.log(`video ${id}: generation started (${String(inputs.style)})`);
    // From here on the vendor holds a video: every failure must carry its id back to Pulumi.
    const accepted: Props = { ...base, videoId: id, status: "processing" };
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
 * An acknowledged delete is then verified (see delete-verification.ts): a video still there gets the
 * delete again with backoff, and one that never goes fails the delete, naming it. Each video deleted
 * or found gone gets a receipt when `imagine:deletionLog` is set. `props` are the stored outputs.
 */
export async function deleteVideo(ctx: OperationContext, id: string, props: Props = {}): Promise<void> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    const mode = ctx.settings.verifyDeletes;
    const fileUrl = storedFileUrl(props);
    const used: { method?: "DELETE" | "POST" } = {};
    let attempts = 1;
    const done = (verification: Verification, line: string) => {
        ctx.log(`video ${id}: ${line}`);
        writeReceipt(ctx, id, props, { method: used.method ?? "DELETE", verification, attempts });
    };

    if ((await sendDelete(ctx, id, deadline, used)) === "already-gone") {
        return done("already-gone", "already gone on the vendor's side");
    }
    const how = `deleted (${used.method ?? "DELETE"})`;
    if (mode === "off") {
        return done("unverified", `${how}, not verified (imagine:verifyDeletes is off)`);
    }
    const delays = backoffDelays(ctx);
    let vendorSaysGone = false;
    for (let round = 1; ; round++) {
        const check = await checkGone({ client: ctx.client, requestTimeoutMs: ctx.settings.requestTimeoutMs }, id, fileUrl, mode, deadline);
        if (check.gone) {
            const proof = check.proof === "file-404" ? "its file link answers 404" : "the API no longer knows it (status 404)";
            const again = attempts > 1 ? ` after ${attempts} delete requests` : "";
            return done(check.proof, `${how}${again}, confirmed: ${proof}`);
        }
        const seen = check.seenBy === "file" ? "its file is still served" : "its status still answers";
        const pause = delays(round);
        if (ctx.clock.now() + pause > deadline) {
            throw new ImagineDeleteNotConfirmedError(
                `video ${id}: the Imagine API acknowledged its delete${attempts > 1 ? ` ${attempts} times` : ""}, but ${seen} ` +
                    `when imagine:deleteTimeoutMinutes (${ctx.settings.deleteTimeoutMs / 60_000}) ran out` +
                    (vendorSaysGone ? " (the API itself now says it does not exist)" : "") +
                    ". It stays in the stack: run `pulumi destroy` again, raise imagine:deleteTimeoutMinutes, or ask the vendor.",
                { operation: `delete video ${id}` },
            );
        }
        ctx.log(
            `video ${id}: ${seen} after the vendor acknowledged its delete; ` +
                (vendorSaysGone ? "checking again" : "sending the delete again") + ` in ${(pause / 1000).toFixed(1)}s`,
        );
        await ctx.clock.sleep(pause);
        if (!vendorSaysGone) {
            attempts++;
            vendorSaysGone = (await sendDelete(ctx, id, deadline, used)) === "already-gone";
        }
    }
}

/** One delete request (DELETE, or POST where DELETE is not served), waiting out a busy video. */
async function sendDelete(ctx: OperationContext, id: string, deadline: number, used: { method?: "DELETE" | "POST" }): Promise<"deleted" | "already-gone"> {
    for (;;) {
        try {
            return await ctx.client.deleteVideo(id, deadline, used);
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
            return "already-gone";
        }
    }
}

/** Appends the video's receipt when `imagine:deletionLog` is set; a failed write warns, never fails the delete. */
function writeReceipt(ctx: OperationContext, id: string, props: Props, r: Pick<DeletionReceipt, "method" | "verification" | "attempts">): void {
    const file = ctx.settings.deletionLog;
    if (!file) {
        return;
    }
    try {
        // Wall-clock time, not the injected clock: a receipt says when it really happened.
        appendReceipt(file, ctx.cwd, { videoId: id, ...identityOf(props), deletedAt: new Date().toISOString(), ...r });
    } catch (e) {
        const code = (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? "unknown error";
        ctx.log(`warning: video ${id} is deleted, but its receipt could not be written to imagine:deletionLog (${code})`);
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
