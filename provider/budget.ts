/** The request budget of one API key (a token bucket shared by every request of the provider process). */
import { Clock } from "./clock";

/**
 * The budget sends a little under the configured rate: two requests paced exactly at the vendor's
 * limit arrive closer together whenever the first was slower in transit, and draw a 429.
 */
export const PACING = 0.95;

/** Creations and deletes go first; status polls use what is left. */
export type Priority = "high" | "low";

interface Waiter {
    resolve: () => void;
}

/**
 * The request budget of one API key, shared by every resource in the provider process: a token
 * bucket refilled at `requestsPerMinute` (times PACING), holding at most one second's worth of requests (the API's
 * limit is not documented; a small burst is safe under a fixed or a sliding window). Waiting
 * requests are served high priority first. A 429 lowers the rate (multiplicatively, at most once a
 * second); each success raises it again (additively) up to the configured rate, so a budget set
 * above what the vendor allows settles near what it does allow.
 */
export class RequestBudget {
    readonly maxPerMs: number;
    private perMs: number;
    private tokens: number;
    private readonly capacity: number;
    private lastRefill: number;
    private lastDecrease = -Infinity;
    private readonly queues: Record<Priority, Waiter[]> = { high: [], low: [] };
    private pumping = false;

    constructor(readonly requestsPerMinute: number, private readonly clock: Clock) {
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

    /** The vendor answered 429: slow down. */
    onThrottled(): void {
        const now = this.clock.now();
        if (now - this.lastDecrease < 1000) {
            return;
        }
        this.lastDecrease = now;
        this.refill();
        this.perMs = Math.max(this.maxPerMs * 0.05, this.perMs * 0.7);
        this.tokens = Math.min(this.tokens, 0);
    }

    /** A request went through: creep back toward the configured rate. */
    onSuccess(): void {
        this.perMs = Math.min(this.maxPerMs, this.perMs + this.maxPerMs * 0.01);
    }

    /** Requests per minute the budget currently allows (PACING of the configured rate, less after 429s). */
    get currentPerMinute(): number {
        return this.perMs * 60_000;
    }

    /** Requests waiting for the budget, by priority. */
    get waiting(): Record<Priority, number> {
        return { high: this.queues.high.length, low: this.queues.low.length };
    }

    private refill(): void {
        const now = this.clock.now();
        this.tokens = Math.min(this.capacity, this.tokens + (now - this.lastRefill) * this.perMs);
        this.lastRefill = now;
    }

    private async pump(): Promise<void> {
        if (this.pumping) {
            return;
        }
        this.pumping = true;
        try {
            for (;;) {
                const queue = this.queues.high.length > 0 ? this.queues.high : this.queues.low;
                if (queue.length === 0) {
                    return;
                }
                this.refill();
                if (this.tokens >= 1) {
                    this.tokens -= 1;
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
