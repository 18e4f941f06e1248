/** The request budget of one API key (a token bucket shared by every request of the provider process). */
import { Clock } from "../core/clock";

/**
 * The budget sends a little under the configured rate: two requests paced exactly at the vendor's
 * limit arrive closer together whenever the first was slower in transit, and draw a 429.
 */
export const PACING = 0.95;
/** On a 429 the rate is multiplied by this (at most once per pause)... */
export const DECREASE = 0.7;
/** With a shared budget the fleet's rate is cut by this: its 429s are rare and most often arrival jitter. */
export const SHARED_DECREASE = 0.9;
/** ...never below this share of the configured rate... */
export const MIN_RATE_SHARE = 0.05;
/** ...and it grows back linearly, from nothing to the configured rate in this long (clock ms). */
export const RECOVERY_MS = 30_000;
/** With a shared budget, each success adds this share of the configured rate back to the fleet's factor. */
export const INCREASE_SHARE = 0.02;
/**
 * A 429 after this long (clock ms) without one is taken for noise (two requests bunched in transit):
 * it pauses the budget but does not cut the rate; refusals closer together are congestion.
 */
export const CALM_MS = 10_000;
/** The pause of the whole budget after a 429 that carries no Retry-After. */
export const DEFAULT_PAUSE_MS = 1000;

/** Creations and deletes go first; status polls use what is left. */
export type Priority = "high" | "low";

/**
 * A budget held outside this process (in Redis) and shared by every process using the API key.
 * Each call may fail or find the store gone: it then answers `undefined` and the local budget decides.
 */
export interface SharedBucket {
    /**
     * One attempt to take a request of `priority` at `now` (clock ms); `moreHigh` says whether high
     * priority requests of this process wait behind this one. Resolves 0 when granted, else the ms
     * to wait before asking again; `undefined` when the shared budget cannot be used now.
     */
    take(priority: Priority, now: number, moreHigh: boolean): Promise<number | undefined>;
    /** The vendor answered 429: pause the whole fleet for `pauseMs` and slow it down. Never throws. */
    throttled(now: number, pauseMs: number): void;
    /** A request went through (reported with the next take). */
    succeeded(): void;
}

interface Waiter {
    resolve: () => void;
}

/**
 * The request budget of one API key in the provider process: a token bucket refilled at
 * `requestsPerMinute` (times PACING), holding at most one second's worth of requests (the API's
 * limit is not documented; a small burst is safe under a fixed or a sliding window). Waiting
 * requests are served high priority first.
 *
 * With a shared bucket (Redis), every grant comes from it; whenever it cannot answer, this local
 * bucket takes over (the "insurance" limiter), so the shared store is never a way to fail or stall.
 *
 * Without one, processes on one key do not know each other and learn the limit from the vendor:
 * a 429 pauses the whole budget for its Retry-After (no request of this process is sent into a
 * refusal) and, when refusals come close together, cuts the rate multiplicatively (once per
 * pause); the rate then grows back linearly
 * with time (AIMD, as TCP does), so several processes settle near the key's limit between them.
 */
export class RequestBudget {
    readonly maxPerMs: number;
    private perMs: number;
    private tokens: number;
    private readonly capacity: number;
    private lastRefill: number;
    private pausedUntil = -Infinity;
    private lastThrottled = -Infinity;
    private readonly queues: Record<Priority, Waiter[]> = { high: [], low: [] };
    private pumping = false;
    /** Grants so far, by where they came from. */
    readonly grants = { shared: 0, local: 0 };

    constructor(
        readonly requestsPerMinute: number,
        private readonly clock: Clock,
        private readonly shared?: SharedBucket,
    ) {
        this.maxPerMs = (requestsPerMinute * PACING) / 60_000;
        this.perMs = this.maxPerMs;
        this.capacity = Math.max(1, Math.ceil(requestsPerMinute / 60));
        this.tokens = this.capacity;
        this.lastRefill = clock.now();
    }

    /** Resolves when a request of this priority may be sent. */
    acquire(priority: Priority): Promise<void> {
        return new Promise<void>((resolve) => {
            this.queues[priority].push({ resolve });
            void this.pump();
        });
    }

    /**
     * The vendor answered 429: nothing more is sent until `retryAfterMs` (its Retry-After, or
     * DEFAULT_PAUSE_MS) has passed, and the rate drops unless this pause was already running or
     * the last 429 was more than CALM_MS ago.
     */
    onThrottled(retryAfterMs?: number): void {
        const now = this.clock.now();
        const pauseMs = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : DEFAULT_PAUSE_MS;
        this.shared?.throttled(now, pauseMs);
        this.refill();
        this.tokens = Math.min(this.tokens, 0);
        const congested = now - this.lastThrottled < CALM_MS;
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

    private refill(): void {
        const now = this.clock.now();
        const elapsed = Math.max(0, now - this.lastRefill);
        this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
        this.perMs = Math.min(this.maxPerMs, this.perMs + (this.maxPerMs * elapsed) / RECOVERY_MS);
        this.lastRefill = now;
    }

    private async pump(): Promise<void> {
        if (this.pumping) {
            return;
        }
        this.pumping = true;
        try {
            for (;;) {
                const priority: Priority = this.queues.high.length > 0 ? "high" : "low";
                const queue = this.queues[priority];
                if (queue.length === 0) {
                    return;
                }
                const now = this.clock.now();
                if (now < this.pausedUntil) {
                    await this.clock.sleep(this.pausedUntil - now);
                    continue;
                }
                this.refill();
                const sharedWait = await this.shared?.take(priority, now, queue.length > 1 && priority === "high");
                if (sharedWait !== undefined) {
                    if (sharedWait <= 0) {
                        this.grants.shared++;
                        queue.shift()!.resolve();
                    } else {
                        await this.clock.sleep(sharedWait);
                    }
                    continue;
                }
                if (this.tokens >= 1) {
                    this.tokens -= 1;
                    this.grants.local++;
                    queue.shift()!.resolve();
                    continue;
                }
                await this.clock.sleep(Math.max(1, (1 - this.tokens) / this.perMs));
            }
        } finally {
            this.pumping = false;
        }
    }
}
