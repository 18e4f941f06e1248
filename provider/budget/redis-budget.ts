/**
 * The request budget of an API key held in Redis, shared by every provider process that uses the
 * key (any stack, any machine): one token bucket, the fleet's queues of waiting processes, and the
 * fleet's count of videos being waited for. Each decision is one Lua script (redis-scripts.ts),
 * timed by Redis's own clock. Keys are named from a hash of the token alone (never the token), the
 * configured rates are stored with them, and they expire when idle.
 *
 * Every call is bounded by the client's command timeout; a failure, a slow answer or an error reply
 * (an ACL without scripting, a read-only replica, ...) makes it answer `undefined`, the caller then
 * uses its local budget, says so once per kind of failure, and Redis is tried again later.
 */
import { createHash, randomUUID } from "crypto";
import type Redis from "ioredis";
import {
    INCREASE_SHARE,
    LOW_EVERY,
    MAX_WAIT_MS,
    MIN_RATE_SHARE,
    PACING,
    Priority,
    SHARED_DECREASE,
    SharedBucket,
    SharedTake,
} from "./budget";
import { onReady, whenReady } from "./redis-connection";
import { defineScripts } from "./redis-scripts";
/** Keys live this long (real ms) after their last use. */
export const IDLE_TTL_MS = 10 * 60_000;
/**
 * After a slow or failed call, Redis is left alone this long (real ms) before it is tried again,
 * doubling while it keeps failing (up to the maximum); a reconnection ends the wait at once.
 */
export const RETRY_REDIS_AFTER_MS = 2000;
export const RETRY_REDIS_MAX_MS = 30_000;
/** At the first call, how long to wait for the connection (real ms) before using the local budget. */
export const FIRST_CONNECT_MS = 1500;
/** Redis's clock and this machine's may differ this much (ms) before it is mentioned (harmless: see NOW). */
export const SKEW_WARN_MS = 2000;

export interface RedisBucketOptions {
    redis: Redis;
    token: string;
    requestsPerMinute: number;
    /** One line per kind of trouble; never given the URL's password. */
    warn: (message: string) => void;
    /** The Redis URL as it may be shown. */
    where: string;
    /** Real time, for backing off from Redis and comparing clocks (defaults to Date.now). */
    realNow?: () => number;
    /** Provider clock ms per real ms: above 1 only in accelerated benchmarks (the emulator's clockSpeed). */
    speed?: number;
}

/** The prefix of every key of this API key's budget: a hash of the token alone, never the token. */
export function budgetKeyPrefix(token: string): string {
    const digest = createHash("sha256").update(`pulumi-imagine-video/budget\n${token}`).digest("hex");
    return `imagine-video:budget:{${digest.slice(0, 32)}}`;
}

const NOT_IN_FORCE = "the fleet budget is not in force; using this process's own budget";

export class RedisBucket implements SharedBucket {
    private readonly redis: Redis;
    private readonly keys: {
        bucket: string;
        high: string;
        low: string;
        live: string;
        rates: string;
        waits: string;
        leases: string;
    };
    /** This process in the fleet's queues and counts: random, says nothing about the machine. */
    private readonly member = randomUUID();
    private readonly leaseMs: number;
    private readonly realNow: () => number;
    private readonly speed: number;
    private successes = 0;
    private avoidUntil = 0;
    private avoidMs = RETRY_REDIS_AFTER_MS;
    private slowWarned = false;
    /** Kinds of error reply (NOPERM, READONLY, ...) already reported, and whether one is in the way now. */
    private readonly repliesWarned = new Set<string>();
    private replyFailing = false;
    private rateWarned = false;
    private firstConnect: Promise<void> | undefined;

    constructor(private readonly options: RedisBucketOptions) {
        this.redis = options.redis;
        const prefix = budgetKeyPrefix(options.token);
        this.keys = {
            bucket: `${prefix}:bucket`,
            high: `${prefix}:high`,
            low: `${prefix}:low`,
            live: `${prefix}:live`,
            rates: `${prefix}:rates`,
            waits: `${prefix}:waits`,
            leases: `${prefix}:leases`,
        };
        const maxPerMs = (options.requestsPerMinute * PACING) / 60_000;
        // A process that stops asking leaves the queues (and its rate stops counting) after this.
        this.leaseMs = Math.max(10_000, 8 / maxPerMs);
        this.realNow = options.realNow ?? Date.now;
        this.speed = options.speed ?? 1;
        defineScripts(this.redis);
        onReady(this.redis, () => {
            this.avoidUntil = 0;
        });
    }

    async take(waiting: Record<Priority, number>): Promise<SharedTake | undefined> {
        if (!(await this.usable())) {
            return undefined;
        }
        const successes = this.successes;
        this.successes = 0;
        try {
            const [code, rate] = await this.redis.imagineBudgetTake(
                this.keys.bucket,
                this.keys.high,
                this.keys.low,
                this.keys.live,
                this.keys.rates,
                this.member,
                waiting.high,
                waiting.low,
                this.options.requestsPerMinute,
                this.speed,
                this.leaseMs,
                IDLE_TTL_MS,
                successes,
                INCREASE_SHARE,
                LOW_EVERY,
                // The head of the queue has this long to take its token before anyone may.
                Math.min(500, 0.2 / ((this.options.requestsPerMinute * PACING) / 60_000)),
                PACING,
                Math.min(MAX_WAIT_MS, this.leaseMs / 2),
            );
            this.answered();
            this.checkRate(Number(rate));
            const c = Number(code);
            return c === -1 ? { grant: "high", waitMs: 0 } : c === -2 ? { grant: "low", waitMs: 0 } : { waitMs: c };
        } catch (e) {
            this.successes += successes;
            this.failed(e);
            return undefined;
        }
    }

    throttled(pauseMs: number): void {
        if (this.redis.status !== "ready" || this.realNow() < this.avoidUntil) {
            return;
        }
        this.redis
            .imagineBudgetThrottle(
                this.keys.bucket,
                Math.ceil(Math.min(pauseMs, MAX_WAIT_MS)),
                this.speed,
                SHARED_DECREASE,
                MIN_RATE_SHARE,
                IDLE_TTL_MS,
            )
            .then(
                () => this.answered(),
                (e: unknown) => this.failed(e),
            );
    }

    succeeded(): void {
        this.successes++;
    }

    /** Records this process's waits and returns the fleet's total, or undefined without Redis. */
    async syncWaits(localCount: number, leaseMs: number): Promise<number | undefined> {
        if (!(await this.usable())) {
            return undefined;
        }
        try {
            const total = await this.redis.imagineFleetWaits(
                this.keys.waits,
                this.keys.leases,
                this.member,
                localCount,
                leaseMs,
                this.speed,
                IDLE_TTL_MS,
            );
            this.answered();
            return Number(total);
        } catch (e) {
            this.failed(e);
            return undefined;
        }
    }

    /** Whether to ask Redis now: connected, and not shunned after a failed or slow answer. */
    private async usable(): Promise<boolean> {
        this.firstConnect ??= this.connect();
        await this.firstConnect;
        return this.redis.status === "ready" && this.realNow() >= this.avoidUntil;
    }

    /** Waits (briefly) for the connection, then compares Redis's clock with this machine's once. */
    private async connect(): Promise<void> {
        if (!(await whenReady(this.redis, FIRST_CONNECT_MS))) {
            return;
        }
        try {
            const [seconds, micros] = await this.redis.time();
            const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
            const skew = this.realNow() - redisMs;
            if (Math.abs(skew) > SKEW_WARN_MS) {
                this.options.warn(
                    `this machine's clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "ahead of" : "behind"} the clock of Redis at ` +
                        `${this.options.where}. That is harmless: the fleet budget takes its time from Redis alone. (Other tools may mind: check NTP.)`,
                );
            }
        } catch {
            // the first take finds out and says so
        }
    }

    /** Says once when processes on this key configured different rates (the lowest is in force). */
    private checkRate(rate: number): void {
        if (!this.rateWarned && Number.isFinite(rate) && rate !== this.options.requestsPerMinute) {
            this.rateWarned = true;
            this.options.warn(
                `imagine:requestsPerMinute is ${this.options.requestsPerMinute} here, but another process sharing this API key through Redis ` +
                    `configured ${rate}: the key's one budget uses the lowest rate any live process configured (${Math.min(rate, this.options.requestsPerMinute)} a minute). ` +
                    "Set the same value everywhere.",
            );
        }
    }

    private answered(): void {
        this.avoidMs = RETRY_REDIS_AFTER_MS;
        if (this.slowWarned || this.replyFailing) {
            this.slowWarned = false;
            this.replyFailing = false;
            this.options.warn(
                `Redis at ${this.options.where} answers in time again: back on the shared request budget.`,
            );
        }
    }

    private failed(e: unknown): void {
        this.avoidUntil = this.realNow() + this.avoidMs;
        const retryIn = Math.round(this.avoidMs / 1000);
        this.avoidMs = Math.min(RETRY_REDIS_MAX_MS, this.avoidMs * 2);
        const message = String((e as Error)?.message ?? e);
        if ((e as Error)?.name === "ReplyError") {
            // An error reply from Redis itself (its text names the command and the rule, never our values).
            const kind = /^[A-Z]+/.exec(message)?.[0] ?? "ERR";
            this.replyFailing = true;
            if (!this.repliesWarned.has(kind)) {
                this.repliesWarned.add(kind);
                this.options.warn(
                    `Redis at ${this.options.where} refused the request budget's script: "${message.slice(0, 300)}": ${NOT_IN_FORCE}, ` +
                        `and tries Redis again in ${retryIn} s (doubling up to ${RETRY_REDIS_MAX_MS / 1000} s).`,
                );
            }
            return;
        }
        // A lost connection is reported once by the connection itself; a slow answer is reported here.
        const slow = /timed? ?out/i.test(message);
        if (slow && !this.slowWarned && this.redis.status === "ready") {
            this.slowWarned = true;
            this.options.warn(
                `Redis at ${this.options.where} did not answer within its command timeout; this process uses its own request budget until it does.`,
            );
        }
    }
}
