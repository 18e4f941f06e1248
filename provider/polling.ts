/**
 * When to ask for a video's status while waiting for it. The vendor says a video takes 10-15
 * minutes: there is no point asking at the start, the answer matters most around the expected end,
 * and past it the checks thin out again. Every process-wide wait shares one request budget, so the
 * pause also widens with the number of videos being waited for: polls never crowd out deletes.
 */
export interface PollSchedule {
    /** When a generation is expected to end (from its start). */
    expectedMs: number;
    /** The shortest pause between two checks. */
    minDelayMs: number;
    /** The longest pause between two checks. */
    maxDelayMs: number;
    /** The key's request budget, requests per minute. */
    requestsPerMinute: number;
}

/** Share of the request budget that status polls may plan to use; the rest is for creates and deletes. */
export const POLL_SHARE = 0.8;
/** The first check comes at this fraction of the expected time: earlier, no video is plausibly done. */
export const FIRST_CHECK = 2 / 3;
/** Checks stay dense until this multiple of the expected time, then back off to the maximum. */
export const DENSE_UNTIL = 1.25;
/** The dense interval, as a fraction of the expected time (29 s for 12 minutes). */
export const DENSE_FRACTION = 0.04;

/**
 * The pause before the next check, `elapsedMs` after the generation started, with `inFlight`
 * videos being waited for in this process (this one included). `random` in [0, 1) spreads checks
 * of videos started together (±10%).
 */
export function nextPollDelay(elapsedMs: number, inFlight: number, s: PollSchedule, random: () => number = Math.random): number {
    const first = s.expectedMs * FIRST_CHECK;
    if (elapsedMs < first) {
        return first - elapsedMs;
    }
    const dense = clamp(s.expectedMs * DENSE_FRACTION, s.minDelayMs, s.maxDelayMs);
    let delay = dense;
    const denseEnd = s.expectedMs * DENSE_UNTIL;
    if (elapsedMs >= denseEnd) {
        // Past the expected window: double every further `expectedMs` fraction, up to the maximum.
        const periods = (elapsedMs - denseEnd) / Math.max(dense, 1);
        delay = Math.min(s.maxDelayMs, dense * 2 ** Math.min(30, Math.floor(periods / 4)));
    }
    const fairShare = (Math.max(1, inFlight) * 60_000) / (POLL_SHARE * s.requestsPerMinute);
    delay = Math.max(delay, fairShare);
    return delay * (0.9 + 0.2 * random());
}

function clamp(v: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, v));
}
