/**
 * When to ask for a video's status while waiting for it: a proportional schedule that notices a
 * video soon after it is done whatever its generation time, densest around the expected end.
 *
 * With E the expected generation time (`imagine:expectedMinutes`), C where checks are densest (E, or
 * the time this process learned for the style), `min`/`max` the poll settings and t the time since
 * the generation started:
 *
 *   planned(t) = clamp(GROWTH * t, floor, max)         floor = clamp(E * FLOOR_FRACTION, min, max)
 *   planned(t) = min(planned(t), dense)   for t in [DENSE_FROM * C, DENSE_UNTIL * C)
 *                                          dense = clamp(C * DENSE_FRACTION, min, max)
 *   planned(t) = hold - t                 for t < hold (a learned style: LEARNED_HOLD of its fastest time)
 *   pause      = max(planned(t), fair share of the budget) * jitter in [1 - JITTER, 1 + JITTER)
 *
 * Bounds that follow (one wait, budget not saturated, request time aside): a video done at T is
 * noticed at the first check at or after T, and the check before it came earlier than T, so
 *   lag(T) < (1 + JITTER) * max(floor, min(GROWTH * T, max))
 * and, when the check before T falls in the dense window, lag(T) < (1 + JITTER) * dense. At the
 * defaults (E 12 min, min 5 s, max 60 s): floor 12 s, dense 25.2 s, so lag < 13.2 s up to one minute,
 * < 22% of T after it, < 27.8 s for T in [10.7, 15] min, < 66 s beyond. The count of checks up
 * to T is 1/GROWTH checks on the floor, ln(max/floor)/ln(1 + GROWTH) growing ones, then one per max
 * until the dense window and one per dense inside it: about 24 for 12 minutes (26 when every pause
 * draws its shortest jitter). test/provider/polling.test.ts asserts these properties on the schedule.
 *
 * Every wait in the process shares one request budget, so the pause also widens with the number of
 * videos being waited for: polls plan for at most POLL_SHARE of it and never crowd out deletes.
 */
export interface PollSchedule {
    /** When a generation is expected to end (from its start): sets the floor, and where checks are densest. */
    expectedMs: number;
    /** The shortest pause between two checks. */
    minDelayMs: number;
    /** The longest pause between two checks (the budget may space them further). */
    maxDelayMs: number;
    /** The key's request budget, requests per minute. */
    requestsPerMinute: number;
    /** What this process learned about the style: checks densest around its typical time, none before LEARNED_HOLD of its fastest. */
    learned?: { typicalMs: number; fastestMs: number };
}

/** Share of the request budget that status polls may plan to use; the rest is for creates and deletes. */
export const POLL_SHARE = 0.8;
/** The next check comes after this fraction of the time elapsed so far: lag stays under ~22% of it. */
export const GROWTH = 0.2;
/** The shortest planned pause, as a fraction of the expected time (12 s for 12 minutes). */
export const FLOOR_FRACTION = 1 / 60;
/** Checks are densest from this multiple of the expected time... */
export const DENSE_FROM = 0.8;
/** ...until this one. */
export const DENSE_UNTIL = 1.25;
/** The dense interval, as a fraction of the expected time (25.2 s for 12 minutes). */
export const DENSE_FRACTION = 0.035;
/** Each pause is jittered by ±10% so that videos started together do not poll together. */
export const JITTER = 0.1;
/**
 * A learned style's first check comes at this fraction of its fastest generation seen: a video of it
 * that takes at least 40% of that time is still noticed within 25% of its time.
 */
export const LEARNED_HOLD = 0.5;

/** The pause the schedule plans `elapsedMs` after the start, before fair share and jitter. */
export function plannedDelay(elapsedMs: number, s: PollSchedule): number {
    // Jitter may bring the first check up to JITTER early: the hold is over then.
    const hold = s.learned ? s.learned.fastestMs * LEARNED_HOLD : 0;
    if (elapsedMs < hold * (1 - JITTER)) {
        return hold - elapsedMs;
    }
    const floor = clamp(s.expectedMs * FLOOR_FRACTION, s.minDelayMs, s.maxDelayMs);
    let delay = clamp(GROWTH * elapsedMs, floor, s.maxDelayMs);
    const centre = s.learned?.typicalMs ?? s.expectedMs;
    if (elapsedMs >= centre * DENSE_FROM && elapsedMs < centre * DENSE_UNTIL) {
        delay = Math.min(delay, clamp(centre * DENSE_FRACTION, s.minDelayMs, s.maxDelayMs));
    }
    return delay;
}

/**
 * The pause before the next check, `elapsedMs` after the generation started, with `inFlight`
 * videos being waited for (this one included). `random` in [0, 1) draws the jitter.
 */
export function nextPollDelay(
    elapsedMs: number,
    inFlight: number,
    s: PollSchedule,
    random: () => number = Math.random,
): number {
    const fairShare = (Math.max(1, inFlight) * 60_000) / (POLL_SHARE * s.requestsPerMinute);
    const delay = Math.max(plannedDelay(Math.max(0, elapsedMs), s), fairShare);
    return delay * (1 - JITTER + 2 * JITTER * random());
}

function clamp(v: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, v));
}
