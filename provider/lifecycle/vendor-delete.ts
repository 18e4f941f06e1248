/** The delete at the vendor: sent (again, until verified), a busy video waited out, the proof checked, a receipt written. */
import { FINGERPRINT_HOWTO } from "../api/key-fingerprint";
import {
    ImagineConflictError,
    ImagineDeleteNotConfirmedError,
    ImagineError,
    ImagineOtherKeyError,
    ImagineVideoNotFoundError,
} from "../core/errors";
import { checkGone, storedFileUrl } from "../deletion/delete-verification";
import { appendReceipt, DeletionReceipt, identityOf, Verification } from "../deletion/deletion-log";
import { exponentialDelays, waitUntil } from "../polling/waiter";
import { OperationContext, otherKey, Props } from "./context";

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
function writeReceipt(ctx: OperationContext, id: string, props: Props, r: DeleteOutcome): void {
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
