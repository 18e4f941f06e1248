/** Waiting for a video: status checks as polling/ plans them; a failure after acceptance is a partial failure. */
import { VideoStatus } from "../api/status";
import { DENSE_FROM, nextPollDelay, PollSchedule } from "../polling/polling";
import { waitUntil } from "../polling/waiter";
import { describeFailure, OperationContext, Props, VideoPartialFailureError } from "./context";
import { statusOutputs } from "./outputs";

/**
 * Waits for the video when asked to, turning every failure after acceptance into a partial failure.
 * `startedMs`: when the generation started (undefined: unknown); `learn`: that start is exact, so the
 * time the style took is learned.
 */
export async function finish(
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
export function failedGeneration(id: string, outs: Props, inputs: Props): VideoPartialFailureError {
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
 * The checks follow provider/polling/polling.ts, planned from the generation's start; a progress line
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
export function startedLongAgo(ctx: OperationContext, createdAt?: unknown): number | undefined {
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
