/** Waiting with a deadline: poll until done with named timeouts, and exponential delays with jitter. */
import { Clock } from "../core/clock";
import { ImagineTimeoutError } from "../core/errors";

export interface WaiterOptions {
    /** The pause before check number `attempt` (0 = the first check), `elapsedMs` into the wait. */
    delayMs: (attempt: number, elapsedMs: number) => number;
    /** Absolute time (clock ms) past which the waiter gives up with ImagineTimeoutError. */
    deadlineMs: number;
    clock: Clock;
    /** What is being waited for, for the timeout message. */
    description: string;
    /** Told of each pause before it starts (attempt 0 = before the first check), e.g. for progress lines. */
    onPause?: (delayMs: number, attempt: number) => void;
}

export type CheckResult<T> = { done: true; value: T } | { done: false; progress?: string };

/**
 * Polls `check` until it reports done, pausing as `delayMs` says but never past the deadline (as
 * smithy's waiters do), then fails with a named timeout. Errors thrown by `check` end the wait.
 */
export async function waitUntil<T>(check: () => Promise<CheckResult<T>>, options: WaiterOptions): Promise<T> {
    const { clock } = options;
    const start = clock.now();
    let lastProgress: string | undefined;
    for (let attempt = 0; ; attempt++) {
        const delay = options.delayMs(attempt, clock.now() - start);
        if (delay > 0) {
            const remaining = options.deadlineMs - clock.now();
            if (remaining <= 0) {
                break;
            }
            options.onPause?.(Math.min(delay, remaining), attempt);
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
    }
    throw new ImagineTimeoutError(
        `gave up waiting for ${options.description}: the deadline passed` +
            (lastProgress ? ` (last status: ${lastProgress})` : "") +
            ".",
    );
}

/**
 * Pauses that grow from `minDelayMs` to `maxDelayMs`: the first after `initialDelayMs`, then
 * uniform in [min, min(max, min * 2^n)] (smithy's jittered backoff).
 */
export function exponentialDelays(
    o: { minDelayMs: number; maxDelayMs: number; initialDelayMs?: number },
    random: () => number = Math.random,
): (attempt: number) => number {
    return (attempt) => {
        if (attempt === 0) {
            return o.initialDelayMs ?? 0;
        }
        const cap = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** Math.min(attempt - 1, 30));
        return o.minDelayMs + random() * (cap - o.minDelayMs);
    };
}
