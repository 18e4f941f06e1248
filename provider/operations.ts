/** The lifecycle operations of a video (create or adopt, wait, read, update, delete) on the API client. */
import * as path from "path";
import { ImagineClient } from "./client";
import { Clock } from "./clock";
import { checkGone, storedFileUrl } from "./delete-verification";
import { appendReceipt, DeletionReceipt, identityOf, Verification } from "./deletion-log";
import {
    ImagineConflictError,
    ImagineDeleteNotConfirmedError,
    ImagineError,
    ImagineOtherKeyError,
    ImagineVideoNotFoundError,
} from "./errors";
import { ImageFile } from "./image-file";
import { DEFAULT_TIMEOUT_MINUTES } from "./inputs";
import { FINGERPRINT_HOWTO, keyFingerprint } from "./key-fingerprint";
import { keepValidLinks } from "./signed-links";
import { definingDigest, identityOf as ledgerKeyOf, Ledger, LedgerEntry, LedgerKey } from "./ledger";
import { ProviderSettings } from "./settings";
import { VideoStatus } from "./status";
import { GenerationTimes } from "./generation-times";
import { DENSE_FROM, nextPollDelay, PollSchedule } from "./polling";
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
    /** How long each style's generations took in this process; absent: nothing is learned. */
    learned?: GenerationTimes;
    /** The ledger of accepted generations; absent, no generation is recorded nor adopted. */
    ledger?: Ledger;
    /** Warnings (a ledger that cannot be used); defaults to `log`. */
    warn?: (message: string) => void;
}

/** The names of the resource's inputs, as stored among its outputs too. */
export const INPUT_KEYS = [
    "prompt",
    "style",
    "aspectRatio",
    "imagePath",
    "extraParams",
    "waitForCompletion",
    "timeoutMinutes",
    "adoptVideoId",
    "imageDigest",
    "identity",
    "protected",
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
        return {
            id,
            outs:
                status.state === "processing"
                    ? await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx, status.createdAt))
                    : outs,
        };
    }

    const ledger = ctx.ledger;
    const key = ledger ? ledgerKeyOf(inputs.identity) : undefined;
    if (!ledger || !key) {
        return generate(ctx, inputs, base, deadline, start);
    }
    const digest = definingDigest(inputs);
    const entries = await ledger.find(key);
    // Left by an interrupted create with other inputs (the program changed since): in no stack, so deleted.
    const sweep = sweepLedger(
        ctx,
        ledger,
        key,
        entries.filter((e) => e.state === "accepted" && e.digest !== digest),
    );
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
    ctx: OperationContext,
    inputs: Props,
    base: Props,
    deadline: number,
    start: number,
    record?: { ledger: Ledger; key: LedgerKey; digest: string },
): Promise<{ id: string; outs: Props }> {
    const image =
        typeof inputs.imagePath === "string" ? imageFile(ctx.cwd, inputs.imagePath, inputs.imageDigest) : undefined;
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
    ctx.log(`video ${id}: generation started (${String(inputs.style)})`);
    const accepted: Props = {
        ...base,
        videoId: id,
        status: "processing",
        keyFingerprint: keyFingerprint(ctx.settings.token),
    };
    // The vendor started the generation before it answered: plan the checks from the answer (an
    // image upload can take seconds), so they never come later than the schedule says.
    return handOver(record, id, async () => ({
        id,
        outs: await finish(ctx, id, accepted, inputs, deadline, ctx.clock.now(), true),
    }));
}

/**
 * Resumes a video an interrupted create had started with the same inputs, if the vendor still has it;
 * undefined (and the entry dropped) when the vendor no longer knows it.
 */
async function adoptFromLedger(
    ctx: OperationContext,
    ledger: Ledger,
    key: LedgerKey,
    e: LedgerEntry,
    base: Props,
    inputs: Props,
    deadline: number,
): Promise<{ id: string; outs: Props } | undefined> {
    const id = e.videoId;
    ledger.claim(id);
    let status: VideoStatus | undefined;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (err) {
        if (err instanceof ImagineVideoNotFoundError) {
            ctx.log(
                `video ${id}: in the ledger of accepted generations but gone on the vendor's side; the entry is dropped and a new generation starts`,
            );
            ledger.release(id);
            await ledger.remove(key, id);
            return undefined;
        }
        // Unknown for now: recorded as processing, and the wait below (or the next up) finds out.
        status = undefined;
    }
    ctx.log(
        `video ${id}: adopted from the ledger of accepted generations (${status?.state ?? "status unknown"}): an interrupted \`pulumi up\` started it, so no new generation is made`,
    );
    const record = { ledger, key, digest: e.digest };
    return handOver(record, id, async () => {
        const recorded = { ...base, keyFingerprint: keyFingerprint(ctx.settings.token) };
        const outs = status
            ? { ...recorded, ...statusOutputs(id, status) }
            : { ...recorded, videoId: id, status: "processing" };
        if (status?.state === "failed") {
            throw failedGeneration(id, outs, inputs);
        }
        return {
            id,
            outs:
                status?.state === "finished"
                    ? outs
                    : await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx, status?.createdAt)),
        };
    });
}

/** Runs the rest of a create, then marks the entry as handed to the engine, whether it returned or threw. */
async function handOver<T>(
    record: { ledger: Ledger; key: LedgerKey; digest: string } | undefined,
    id: string,
    rest: () => Promise<T>,
): Promise<T> {
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
export async function sweepLedger(
    ctx: OperationContext,
    ledger: Ledger,
    key: LedgerKey,
    stale: LedgerEntry[],
): Promise<void> {
    await Promise.all(
        stale.map(async (e) => {
            ledger.claim(e.videoId);
            try {
                ctx.log(
                    `video ${e.videoId}: started by an interrupted \`pulumi up\` with inputs since changed, and in no stack; deleting it`,
                );
                await deleteFromVendor(ctx, e.videoId, { identity: key });
                ledger.release(e.videoId);
                await ledger.remove(key, e.videoId);
            } catch (err) {
                ledger.release(e.videoId);
                (ctx.warn ?? ctx.log)(
                    `video ${e.videoId} (left by an interrupted \`pulumi up\`) could not be deleted: ${describeFailure(err)} It stays in the ledger; the next \`pulumi up\` or \`pulumi destroy\` of ${key.name} tries again.`,
                );
            }
        }),
    );
}

/** `pulumi up` with changed waiting options, or a retry of a video whose wait failed earlier. */
export async function updateVideo(
    ctx: OperationContext,
    id: string,
    olds: Props,
    news: Props,
): Promise<{ outs: Props }> {
    const deadline = ctx.clock.now() + timeoutMs(news);
    const outs: Props = { ...withoutInputs(olds), ...pickInputs(news) };
    if (olds.status !== "processing" || news.waitForCompletion === false) {
        return { outs };
    }
    return { outs: await finish(ctx, id, outs, news, deadline, startedLongAgo(ctx, olds.createdAt)) };
}

/**
 * `pulumi refresh`: the vendor's view of the video; an empty id when it is gone. A 404 seen with
 * another key than the one that made the video proves nothing: the video is kept as it is. Stored
 * file links are kept while valid, so an unchanged video refreshes without a change.
 */
export async function readVideo(
    ctx: OperationContext,
    id: string,
    props: Props,
): Promise<{ id: string; props: Props; inputs?: Props }> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    let status: VideoStatus;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (e) {
        if (e instanceof ImagineVideoNotFoundError) {
            const other = otherKey(ctx, props);
            if (other) {
                ctx.log(
                    `video ${id}: the Imagine API says it does not exist, but ${other}; kept in the stack unchanged`,
                );
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
    return (
        `it was made with the API key whose fingerprint is ${recorded}, and the current key's is ${current} ` +
        "(another key cannot see it)"
    );
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
    await deleteFromVendor(ctx, id, props);
    const identity = ledgerKeyOf(props.identity);
    if (ctx.ledger && identity) {
        await ctx.ledger.remove(identity, id);
        // Videos an interrupted create of this resource left behind, never adopted: they go with it.
        const left = (await ctx.ledger.find(identity)).filter((e) => e.state === "accepted");
        await sweepLedger(ctx, ctx.ledger, identity, left);
    }
}

/** What a verified delete established: the receipt's fields besides the video and the time. */
export type DeleteOutcome = Pick<DeletionReceipt, "method" | "verification" | "attempts">;

/**
 * The delete itself: sent (again, until verified), confirmed, and receipted when
 * `imagine:deletionLog` is set. Resolves with how it was established (the `imagine-video` CLI writes
 * its own receipts from it); throws as `deleteVideo` does. `props` are the stored outputs, if any.
 */
export async function deleteFromVendor(ctx: OperationContext, id: string, props: Props): Promise<DeleteOutcome> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    const mode = ctx.settings.verifyDeletes;
    const fileUrl = storedFileUrl(props);
    const used: { method?: "DELETE" | "POST" } = {};
    let attempts = 1;
    const done = (verification: Verification, line: string): DeleteOutcome => {
        ctx.log(`video ${id}: ${line}`);
        const outcome: DeleteOutcome = { method: used.method ?? "DELETE", verification, attempts };
        writeReceipt(ctx, id, props, outcome);
        return outcome;
    };

    if ((await sendDelete(ctx, id, props, deadline, used)) === "already-gone") {
        return done("already-gone", "already gone on the vendor's side");
    }
    const how = `deleted (${used.method ?? "DELETE"})`;
    if (mode === "off") {
        return done("unverified", `${how}, not verified (imagine:verifyDeletes is off)`);
    }
    const delays = backoffDelays(ctx);
    let vendorSaysGone = false;
    for (let round = 1; ; round++) {
        const check = await checkGone(
            { client: ctx.client, requestTimeoutMs: ctx.settings.requestTimeoutMs },
            id,
            fileUrl,
            mode,
            deadline,
        );
        if (check.gone) {
            const proof =
                check.proof === "file-404" ? "its file link answers 404" : "the API no longer knows it (status 404)";
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
                (vendorSaysGone ? "checking again" : "sending the delete again") +
                ` in ${(pause / 1000).toFixed(1)}s`,
        );
        await ctx.clock.sleep(pause);
        if (!vendorSaysGone) {
            attempts++;
            vendorSaysGone = (await sendDelete(ctx, id, props, deadline, used)) === "already-gone";
        }
    }
}

/** One delete request (DELETE, or POST where DELETE is not served), waiting out a busy video. */
async function sendDelete(
    ctx: OperationContext,
    id: string,
    props: Props,
    deadline: number,
    used: { method?: "DELETE" | "POST" },
): Promise<"deleted" | "already-gone"> {
    for (;;) {
        try {
            const result = await ctx.client.deleteVideo(id, deadline, used);
            if (result === "already-gone") {
                refuseOtherKeysNotFound(ctx, id, props);
            }
            return result;
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
                    return s.state === "processing"
                        ? { done: false, progress: s.vendorStatus ?? s.state }
                        : { done: true, value: false };
                } catch (err) {
                    if (err instanceof ImagineVideoNotFoundError) {
                        return { done: true, value: true };
                    }
                    throw err;
                }
            },
            {
                delayMs: backoffDelays(ctx),
                deadlineMs: deadline,
                clock: ctx.clock,
                description: `video ${id} to stop processing before deleting it`,
            },
        );
        if (gone) {
            refuseOtherKeysNotFound(ctx, id, props);
            return "already-gone";
        }
    }
}

/** Appends the video's receipt when `imagine:deletionLog` is set; a failed write warns, never fails the delete. */
function writeReceipt(
    ctx: OperationContext,
    id: string,
    props: Props,
    r: Pick<DeletionReceipt, "method" | "verification" | "attempts">,
): void {
    const file = ctx.settings.deletionLog;
    if (!file) {
        return;
    }
    try {
        // Wall-clock time, not the injected clock: a receipt says when it really happened.
        appendReceipt(file, ctx.cwd, { videoId: id, ...identityOf(props), deletedAt: new Date().toISOString(), ...r });
    } catch (e) {
        const code = (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? "unknown error";
        ctx.log(
            `warning: video ${id} is deleted, but its receipt could not be written to imagine:deletionLog (${code})`,
        );
    }
}

/** Destroy with another key than the video's: "not found" is no proof, so fail and keep it in the stack. */
function refuseOtherKeysNotFound(ctx: OperationContext, id: string, props: Props): void {
    const other = otherKey(ctx, props);
    if (other) {
        throw new ImagineOtherKeyError(
            `video ${id}: the Imagine API says it does not exist, but ${other}. It stays in the stack. Set imagine:apiToken ` +
                `(or IMAGINE_API_TOKEN) to the key with fingerprint ${String(props.keyFingerprint)} and run the command again (${FINGERPRINT_HOWTO}). ` +
                "If that key no longer exists and the video is gone, remove it from the stack with `pulumi state delete <urn>`.",
            { httpStatus: 404 },
        );
    }
}

/**
 * Waits for the video when asked to, turning every failure after acceptance into a partial failure.
 * `startedMs`: when the generation started (undefined: unknown); `learn`: that start is exact, so the
 * time the style took is learned.
 */
async function finish(
    ctx: OperationContext,
    id: string,
    outs: Props,
    inputs: Props,
    deadline: number,
    startedMs: number | undefined,
    learn = false,
): Promise<Props> {
    const withProvider = (o: Props) => ({ ...o, __provider: inputs.__provider });
    if (inputs.waitForCompletion === false) {
        return outs;
    }
    let status: VideoStatus;
    try {
        status = await waitForVideo(ctx, id, deadline, { startedMs, style: stringOrUndefined(inputs.style), learn });
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

/** What a wait knows about the generation it waits for. */
export interface WaitPlan {
    /** When the generation started (clock ms). Unknown: as if it were where checks are densest. */
    startedMs?: number;
    /** Its style: the checks are planned around what this process learned about the style. */
    style?: string;
    /** The start is exact (the wait follows the generation request): learn the time it takes. */
    learn?: boolean;
}

/** The partial failure of a generation the vendor reports as failed: recorded, replaced by the next up. */
function failedGeneration(id: string, outs: Props, inputs: Props): VideoPartialFailureError {
    const reason = `the Imagine API reports that the generation failed: ${typeof outs.failureReason === "string" ? outs.failureReason : "no reason given"}.`;
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
 * The checks follow provider/polling.ts, planned from the generation's start; a progress line
 * says what is happening at each pause (status, time elapsed, when the next check comes).
 */
export async function waitForVideo(
    ctx: OperationContext,
    id: string,
    deadlineMs: number,
    plan: WaitPlan = {},
): Promise<VideoStatus> {
    const learned = ctx.learned?.timing(plan.style);
    const schedule: PollSchedule = {
        expectedMs: ctx.settings.expectedMs,
        learned,
        minDelayMs: ctx.settings.minPollMs,
        maxDelayMs: ctx.settings.maxPollMs,
        requestsPerMinute: ctx.settings.requestsPerMinute,
    };
    const startedMs = plan.startedMs ?? ctx.clock.now() - (learned?.typicalMs ?? schedule.expectedMs) * DENSE_FROM;
    const elapsed = () => ctx.clock.now() - startedMs;
    /** Elapsed time at the last answer that said the video was still processing. */
    let processingAtMs: number | undefined;
    let lastStatus = "processing";
    const onPause = (delayMs: number, attempt: number) => {
        if (attempt === 0) {
            const hint =
                learned && plan.style !== undefined
                    ? ` (${plan.style} took about ${seconds(learned.typicalMs)}s in this deployment so far)`
                    : "";
            ctx.log(`video ${id}: first status check in ${seconds(delayMs)}s${hint}`);
        } else {
            ctx.log(
                `video ${id}: ${lastStatus} (${Math.round((processingAtMs ?? elapsed()) / 1000)}s elapsed); next check in ${seconds(delayMs)}s`,
            );
        }
    };
    ctx.waits.inFlight++;
    try {
        return await waitUntil<VideoStatus>(
            async () => {
                const s = await ctx.client.getStatus(id, deadlineMs);
                const at = elapsed();
                if (s.state !== "processing") {
                    if (plan.learn && s.state === "finished" && plan.style !== undefined) {
                        // Done somewhere between the last "processing" answer and this one.
                        ctx.learned?.record(plan.style, ((processingAtMs ?? 0) + at) / 2);
                    }
                    return { done: true, value: s };
                }
                processingAtMs = at;
                lastStatus = s.progress;
                return { done: false, progress: lastStatus };
            },
            {
                delayMs: () => nextPollDelay(elapsed(), ctx.waits.inFlight, schedule, ctx.random),
                deadlineMs,
                clock: ctx.clock,
                description: `video ${id} to finish`,
                onPause,
            },
        );
    } finally {
        ctx.waits.inFlight--;
    }
}

/**
 * When a video whose wait is resumed (an update after a failed wait) or adopted started: the
 * vendor's `created_at` when it is plausible on our clock (not in the future, within a week), else
 * unknown (the wait then plans as if the video were where checks are densest).
 */
function startedLongAgo(ctx: OperationContext, createdAt?: unknown): number | undefined {
    const now = ctx.clock.now();
    const t = typeof createdAt === "string" ? Date.parse(createdAt) : NaN;
    if (!Number.isFinite(t) || t > now + 60_000 || t < now - 7 * 24 * 3_600_000) {
        return undefined;
    }
    return Math.min(t, now);
}

/** Seconds for a progress line: whole ones, tenths below ten. */
function seconds(ms: number): string {
    return ms < 10_000 ? (Math.round(ms / 100) / 10).toString() : Math.round(ms / 1000).toString();
}

function stringOrUndefined(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

/** Pauses for waits that are not a generation's (a busy video before a delete). */
function backoffDelays(ctx: OperationContext) {
    return exponentialDelays(
        {
            minDelayMs: ctx.settings.minPollMs,
            maxDelayMs: ctx.settings.maxPollMs,
            initialDelayMs: ctx.settings.minPollMs,
        },
        ctx.random,
    );
}

/**
 * A 409, or a 4xx whose vendor message says the video is still being generated. Narrow on purpose:
 * "Error processing request" is a refusal, not a busy video, and must not make delete wait.
 */
export function isStillProcessing(e: unknown): boolean {
    if (e instanceof ImagineConflictError) {
        return true;
    }
    return (
        e instanceof ImagineError &&
        e.httpStatus !== undefined &&
        e.httpStatus >= 400 &&
        e.httpStatus < 500 &&
        /\b(still|currently|is being|being) (processing|generat\w*|in progress|rendering|running)\b|\b(not (yet )?(finished|complete|completed|done)|in progress)\b/i.test(
            e.vendorMessage ?? "",
        )
    );
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
    return {
        path: path.resolve(cwd, imagePath),
        imagePath,
        filename: path.basename(imagePath),
        digest: typeof digest === "string" ? digest : "",
    };
}
