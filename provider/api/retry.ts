/** The retry decision, as a pure function: whether a failed attempt may be repeated, and after how long. */
import { ImagineConnectionError, ImagineRateLimitError, ImagineServerError } from "../core/errors";

/** How long to back off between attempts: exponential from `baseDelayMs`, capped at `maxDelayMs`. */
export interface BackoffPolicy {
    baseDelayMs: number;
    maxDelayMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseDelayMs: 1000, maxDelayMs: 30000 };

/** Retries of a request that never reached the server (refused, unresolvable) before giving up. */
export const MAX_UNREACHABLE_RETRIES = 4;

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Whether a failed attempt may be sent again, and after how long. Pure: the caller owns the clock
 * and the deadline.
 *
 * - 429 and 503 mean the vendor refused the request: always safe to repeat.
 * - Other 5xx, resets and timeouts may hide a request the vendor accepted: repeated only when the
 *   request is idempotent (status, delete), never for a generation, which would start a second video.
 * - A connection that was refused never reached the vendor: safe to repeat, a few times.
 * - Everything else (auth, credits, invalid input, not found) is final.
 *
 * The delay is exponential with "equal jitter" (half fixed, half random); a Retry-After from the
 * vendor is a floor under it, not a replacement for it.
 */
export function decideRetry(
    error: unknown,
    attempt: number,
    idempotent: boolean,
    policy: BackoffPolicy = defaultBackoff,
    random: () => number = Math.random,
): RetryDecision {
    if (!isRetryable(error, idempotent)) {
        return { retry: false };
    }
    if (error instanceof ImagineConnectionError && !error.requestMayHaveArrived && attempt >= MAX_UNREACHABLE_RETRIES) {
        // Nothing is listening at the base URL, or its name does not resolve: most often a wrong
        // imagine:baseUrl. A few tries ride out a restart; more would only hide the mistake.
        return { retry: false };
    }
    const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt));
    const jittered = exponential / 2 + (random() * exponential) / 2;
    const floor = error instanceof ImagineRateLimitError ? (error.retryAfterMs ?? 0) : 0;
    return { retry: true, delayMs: Math.max(jittered, floor) };
}

function isRetryable(error: unknown, idempotent: boolean): boolean {
    if (error instanceof ImagineRateLimitError) {
        return true;
    }
    if (error instanceof ImagineServerError) {
        return idempotent || error.httpStatus === 503;
    }
    if (error instanceof ImagineConnectionError) {
        return idempotent || !error.requestMayHaveArrived;
    }
    return false;
}
