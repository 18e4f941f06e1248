/**
 * A token bucket per key in emulated time, refilled at limit/60 per second; its capacity is `burst`
 * (0 = the whole minute's limit, so a fresh key may send a minute's worth at once).
 * A refused request is told, in whole seconds (at least 1), when a request would be allowed.
 */
interface Bucket {
    tokens: number;
    atMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSec: number };

export class RateLimiter {
    private readonly buckets = new Map<string, Bucket>();

    take(owner: string, perMinute: number, nowMs: number, burst = 0): RateDecision {
        if (perMinute <= 0) return { allowed: true };
        const perMs = perMinute / 60_000;
        const capacity = burst > 0 ? burst : perMinute;
        const bucket = this.buckets.get(owner) ?? { tokens: capacity, atMs: nowMs };
        bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, nowMs - bucket.atMs) * perMs);
        bucket.atMs = nowMs;
        this.buckets.set(owner, bucket);
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return { allowed: true };
        }
        const waitMs = (1 - bucket.tokens) / perMs;
        return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
    }

    /** Forget every bucket (used when the limit changes at run time). */
    reset(): void {
        this.buckets.clear();
    }
}
