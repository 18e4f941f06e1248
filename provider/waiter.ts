import { Clock } from "./clock";
import { ImagineTimeoutError } from "./errors";

export interface WaiterOptions {
    /** Shortest pause between two checks. */
    minDelayMs: number;
    /** Longest pause between two checks; pauses double from the minimum up to it. */
    maxDelayMs: number;
    /** Pause before the first check (a video cannot be done the moment it is started). */
    initialDelayMs?: number;
    /** Absolute time (clock ms) past which the waiter gives up with ImagineTimeoutError. */
    deadlineMs: number;
    clock: Clock;
    random?: () => number;
    /** What is being waited for, for the timeout message. */
    description: string;
}

export type CheckResult<T> = { done: true; value: T } | { done: false; progress?: string };

/**
 * Polls `check` until it reports done, with pauses growing from `minDelayMs` to `maxDelayMs`,
 * jittered between the minimum and the current cap (as smithy's waiters do), never sleeping past
 * the deadline. Errors thrown by `check` end the wait at once.
 */
export async function waitUntil<T>(check: () => Promise<CheckResult<T>>, options: WaiterOptions): Promise<T> {
    const random = options.random ?? Math.random;
    const { clock } = options;
    let lastProgress: string | undefined;
    let attempt = 0;
    let delay = options.initialDelayMs ?? 0;
    for (;;) {
        if (delay > 0) {
            const remaining = options.deadlineMs - clock.now();
            if (remaining <= 0) {
                break;
            }
            await clock.sleep(Math.min(delay, remaining));
        }
        const result = await check();
        if (result.done) {
            return result.value;
        }
        lastProgress = result.progress ?? lastProgress;
        if (clock.now() >= options.deadlineMs) {
            break;
        }
        delay = nextDelay(attempt++, options, random);
    }
    throw new ImagineTimeoutError(
        `gave up waiting for ${options.description}: the deadline passed` +
            (lastProgress ? ` (last status: ${lastProgress})` : "") +
            ".",
    );
}

/** The pause after the `attempt`-th check (0-based): uniform in [min, min(max, min * 2^attempt)]. */
export function nextDelay(attempt: number, options: Pick<WaiterOptions, "minDelayMs" | "maxDelayMs">, random: () => number): number {
    const cap = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(attempt, 30));
    return options.minDelayMs + random() * (cap - options.minDelayMs);
}
