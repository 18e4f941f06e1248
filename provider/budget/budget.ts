/** The request budget of one API key (a token bucket shared by every request of the provider process). */
import { Clock } from "../core/clock";
import { ImagineRateLimitError, ImagineTimeoutError } from "../core/errors";

/**
 * The budget sends a little under the configured rate: two requests paced exactly at the vendor's
 * limit arrive closer together whenever the first was slower in transit, and draw a 429.
 */
export const PACING = 0.95;
/** On congestion (429s close together) the rate is multiplied by this, at most once per pause... */
export const DECREASE = 0.5;
/** With a shared budget the fleet's rate is cut by this: its 429s are rare and most often arrival jitter. */
export const SHARED_DECREASE = 0.9;
/** ...never below this share of the configured rate... */
export const MIN_RATE_SHARE = 0.05;
/**
 * ...and it grows back slowly: linearly, the whole configured rate in RECOVERY_MS (clock ms), plus
 * GROWTH_PER_MINUTE of the current rate each minute. Processes that do not know each other probe up
 * together, so the fleet's growth must not scale with their number: the proportional part grows the
 * fleet's total by the same 10% a minute whether it is 2 processes or 10.
 */
export const RECOVERY_MS = 60 * 60_000;
export const GROWTH_PER_MINUTE = 0.1;
/**
 * With a shared budget, each success adds this share of the configured rate back to the fleet's factor: one
 * cut (SHARED_DECREASE) is regained over 50 successes, so jitter cannot hold the refused share above ~2%.
 */
export const INCREASE_SHARE = 0.002;
/**
 * A 429 after this long (clock ms) without one is taken for noise (two requests bunched in transit):
 * it pauses the budget but does not cut the rate; refusals closer together are congestion.
 */
export const CALM_MS = 10_000;
/** The pause of the whole budget after a 429 that carries no Retry-After. */
export const DEFAULT_PAUSE_MS = 1000;
/**
 * The longest pause the budget takes in one go (clock ms): a longer Retry-After is not obeyed as a
 * pause (see `onThrottled`), and a wait the shared budget names is asked again after at most this.
 */
export const MAX_WAIT_MS = 60_000;
/** When creations or deletes and status reads both wait, one grant in this many goes to a status read. */
export const LOW_EVERY = 4;

/** Creations and deletes (with the status reads that prove a delete) go first; polls keep one grant in LOW_EVERY while they wait. */
export type Priority = "high" | "low";

/** What the shared budget answered: a grant for one of the classes asked for, or how long to wait. */
export interface SharedTake {
    grant?: Priority;
    /** When nothing was granted: ms of the provider's clock to wait before asking again. */
    waitMs: number;
}

/**
 * A budget held outside this process (in Redis) and shared by every process using the API key.
 * Each call may fail or find the store gone: it then answers `undefined` and the local budget decides.
 */
export interface SharedBucket {
    /** One attempt to take a request for one of this process's waiting classes (counts by priority). */
    take(waiting: Record<Priority, number>): Promise<SharedTake | undefined>;
    /** The vendor answered 429: pause the whole fleet for `pauseMs` and slow it down. Never throws. */
    throttled(pauseMs: number): void;
    /** A request went through (reported with the next take). */
    succeeded(): void;
}

interface Waiter {
    resolve: () => void;
    reject: (e: Error) => void;
    /** Clock ms after which the wait fails (the outer bound on queue time). */
    deadline: number;
}

/** The error of a request refused because the vendor asked this key to pause longer than MAX_WAIT_MS. */
export function longRetryAfterError(retryAfterMs: number, until: number, operation?: string): ImagineRateLimitError {
    const seconds = Math.round(retryAfterMs / 1000);
    return new ImagineRateLimitError(
        `${operation ? `${operation}: ` : ""}the Imagine API asked this API key to wait ${seconds} s (Retry-After: ${seconds}) ` +
            `before its next request, longer than the ${MAX_WAIT_MS / 1000} s the provider waits: the request fails now ` +
            `instead of hanging. Nothing was lost; run the command again after ${new Date(until).toISOString()}.`,
        { httpStatus: 429, operation, retryAfterMs },
    );
}

/**
 * The request budget of one API key in the provider process: a token bucket refilled at
 * `requestsPerMinute` (times PACING), holding at most one second's worth of requests (the API's
 * limit is not documented; a small burst is safe under a fixed or a sliding window). Creations and
 * deletes go first, but while status reads wait they get one grant in LOW_EVERY (what polling plans
 * for). Every wait is bounded: no pause longer than MAX_WAIT_MS, and no request queued longer than
 * the queue timeout (`imagine:queueTimeoutMinutes`).
 *
 * With a shared bucket (Redis), every grant comes from it; whenever it cannot answer, this local
 * bucket takes over (the "insurance" limiter), so the shared store is never a way to fail or stall.
 *
 * Without one, processes on one key do not know each other and learn the limit from the vendor
 * (AIMD, as TCP does): a 429 pauses the whole budget for its Retry-After (a floor: no request of
 * this process is sent into a refusal); refusals close together, or any below full rate, halve the
 * rate (once per pause); the rate then grows back slowly (see RECOVERY_MS), so several processes
 * settle near the key's limit between them with few refusals.
 */
export class RequestBudget {
    readonly maxPerMs: number;
    private perMs: number;
    private tokens: number;
    private readonly capacity: number;
    private lastRefill: number;
    private pausedUntil = -Infinity;
    private lastThrottled = -Infinity;
    /** After a Retry-After over MAX_WAIT_MS: requests fail at once until then (with that error). */
    private refused?: { until: number; retryAfterMs: number };
    private readonly queues: Record<Priority, Waiter[]> = { high: [], low: [] };
    /** High-priority grants since the last low one, while both waited. */
    private highStreak = 0;
    private pumping = false;
    /** Grants so far, by where they came from. */
    readonly grants = { shared: 0, local: 0 };

    constructor(
        readonly requestsPerMinute: number,
        private readonly clock: Clock,
        private readonly shared?: SharedBucket,
        /** The outer bound of one request's wait in the queue (clock ms). */
        private readonly queueTimeoutMs = Infinity,
    ) {
        this.maxPerMs = (requestsPerMinute * PACING) / 60_000;
        this.perMs = this.maxPerMs;
        this.capacity = Math.max(1, Math.ceil(requestsPerMinute / 60));
        this.tokens = this.capacity;
        this.lastRefill = clock.now();
    }

    /**
     * Resolves when a request of this priority may be sent. Rejects with an ImagineTimeoutError after
     * the queue timeout, and with an ImagineRateLimitError while the vendor's long Retry-After runs.
     */
    acquire(priority: Priority): Promise<void> {
        return new Promise<void>((resolve, reject) => {
            const refusal = this.refusal();
            if (refusal) {
                reject(refusal);
                return;
            }
            this.queues[priority].push({ resolve, reject, deadline: this.clock.now() + this.queueTimeoutMs });
            void this.pump();
        });
    }

    /**
     * The vendor answered 429: nothing more is sent until `retryAfterMs` (its Retry-After, or
     * DEFAULT_PAUSE_MS) has passed, and the rate drops unless this pause was already running or
     * the last 429 was more than CALM_MS ago. A Retry-After over MAX_WAIT_MS is not obeyed as a
     * pause: every request of this process waiting or to come fails at once until it has passed,
     * with an error naming the wait (the fleet pauses MAX_WAIT_MS, then its requests learn the
     * same from the vendor).
     */
    onThrottled(retryAfterMs?: number): void {
        const now = this.clock.now();
        const asked = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : DEFAULT_PAUSE_MS;
        const pauseMs = Math.min(asked, MAX_WAIT_MS);
        this.shared?.throttled(pauseMs);
        if (asked > MAX_WAIT_MS) {
            this.refused = { until: now + asked, retryAfterMs: asked };
            const error = this.refusal()!;
            for (const queue of Object.values(this.queues)) {
                queue.splice(0).forEach((w) => w.reject(error));
            }
        }
        this.refill();
        this.tokens = Math.min(this.tokens, 0);
        // A lone 429 at full rate after a calm spell is noise (two requests bunched in transit); below
        // full rate the budget is already sharing the key with others, and every new pause is congestion.
        const congested = now - this.lastThrottled < CALM_MS || this.perMs < this.maxPerMs;
        this.lastThrottled = now;
        if (congested && now >= this.pausedUntil) {
            // One cut per pause: the 429s of requests already in flight report the same congestion.
            this.perMs = Math.max(this.maxPerMs * MIN_RATE_SHARE, this.perMs * DECREASE);
        }
        this.pausedUntil = Math.max(this.pausedUntil, now + pauseMs);
    }

    /** A request went through (the shared budget's rate grows with the fleet's successes). */
    onSuccess(): void {
        this.shared?.succeeded();
    }

    /** Requests per minute the local budget currently allows (PACING of the configured rate, less after 429s). */
    get currentPerMinute(): number {
        this.refill();
        return this.perMs * 60_000;
    }

    /** Requests waiting for the budget, by priority. */
    get waiting(): Record<Priority, number> {
        return { high: this.queues.high.length, low: this.queues.low.length };
    }

    private refusal(): ImagineRateLimitError | undefined {
        const r = this.refused;
        if (!r || this.clock.now() >= r.until) {
            this.refused = undefined;
            return undefined;
        }
        return longRetryAfterError(r.retryAfterMs, r.until);
    }

    private refill(): void {
        const now = this.clock.now();
        const elapsed = Math.max(0, now - this.lastRefill);
        this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
        const growth = this.maxPerMs / RECOVERY_MS + (this.perMs * GROWTH_PER_MINUTE) / 60_000;
        this.perMs = Math.min(this.maxPerMs, this.perMs + growth * elapsed);
        this.lastRefill = now;
    }

    /** The class the next local grant goes to: high first, low once in LOW_EVERY while both wait. */
    private next(): Priority | undefined {
        const { high, low } = this.queues;
        if (low.length > 0 && (high.length === 0 || this.highStreak >= LOW_EVERY - 1)) {
            return "low";
        }
        return high.length > 0 ? "high" : undefined;
    }

    private grant(priority: Priority): void {
        this.highStreak = priority === "low" ? 0 : Math.min(LOW_EVERY - 1, this.highStreak + 1);
        this.queues[priority].shift()!.resolve();
    }

    /** Fails the requests that waited longer than the queue timeout. */
    private expire(): void {
        const now = this.clock.now();
        for (const [priority, queue] of Object.entries(this.queues)) {
            for (let i = queue.length - 1; i >= 0; i--) {
                const w = queue[i];
                if (now >= w.deadline) {
                    queue.splice(i, 1);
                    w.reject(
                        new ImagineTimeoutError(
                            `a ${priority === "high" ? "create or delete" : "status read"} waited ${Math.round(this.queueTimeoutMs / 60_000)} min ` +
                                "for its turn in the API key's request budget (imagine:queueTimeoutMinutes) and was not sent. " +
                                "Run the command again (what is done stays done), or raise imagine:queueTimeoutMinutes.",
                            {},
                        ),
                    );
                }
            }
        }
    }

    private async pump(): Promise<void> {
        if (this.pumping) {
            return;
        }
        this.pumping = true;
        try {
            for (;;) {
                this.expire();
                const priority = this.next();
                if (!priority) {
                    return;
                }
                const now = this.clock.now();
                if (now < this.pausedUntil) {
                    await this.clock.sleep(Math.min(this.pausedUntil - now, MAX_WAIT_MS));
                    continue;
                }
                this.refill();
                const taken = await this.shared?.take(this.waiting);
                if (taken !== undefined) {
                    const granted = taken.grant && this.queues[taken.grant].length > 0 ? taken.grant : undefined;
                    if (granted) {
                        this.grants.shared++;
                        this.grant(granted);
                    } else {
                        await this.clock.sleep(Math.min(Math.max(1, taken.waitMs), MAX_WAIT_MS));
                    }
                    continue;
                }
                if (this.tokens >= 1) {
                    this.tokens -= 1;
                    this.grants.local++;
                    this.grant(priority);
                    continue;
                }
                await this.clock.sleep(Math.min(MAX_WAIT_MS, Math.max(1, (1 - this.tokens) / this.perMs)));
            }
        } finally {
            this.pumping = false;
        }
    }
}
