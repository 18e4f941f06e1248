/**
 * The request budget of an API key held in Redis, shared by every provider process that uses the
 * key (any stack, any machine): one token bucket, the fleet's demand for high-priority requests,
 * and the fleet's count of videos being waited for. Each decision is one Lua script (atomic), timed
 * by the provider's Clock (passed in, so benchmarks can run accelerated). Keys are named from a
 * hash of the token and the rate, never the token, and expire when idle.
 *
 * Every call is bounded by the client's command timeout; a failure or a slow answer makes it
 * answer `undefined`, the caller then uses its local budget, and Redis is tried again later.
 */
import { createHash, randomUUID } from "crypto";
import type Redis from "ioredis";
import type { Result } from "ioredis";
import { INCREASE_SHARE, MIN_RATE_SHARE, PACING, Priority, SHARED_DECREASE, SharedBucket } from "./budget";

declare module "ioredis" {
    interface RedisCommander<Context> {
        imagineBudgetTake(...args: (string | number)[]): Result<number, Context>;
        imagineBudgetThrottle(...args: (string | number)[]): Result<number, Context>;
        imagineFleetWaits(...args: (string | number)[]): Result<number, Context>;
    }
}

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

/**
 * Takes one request from the bucket, or says how long to wait. A high-priority caller registers its
 * process's demand (it expires unless renewed); low priority passes only while no process has
 * demand. A paused bucket (after a 429) grants nothing until the pause ends. The rate factor `f`
 * (AIMD across the fleet) grows with the successes the caller reports.
 * KEYS: bucket hash, demand zset. ARGV: now, full rate per ms, capacity, priority, member,
 * demand ttl (clock ms), more high waiting (0/1), successes, idle ttl (real ms), increase share.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local maxPerMs = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local b = redis.call("HMGET", KEYS[1], "tokens", "ts", "pause", "f")
local f = math.min(1, (tonumber(b[4]) or 1) + tonumber(ARGV[10]) * tonumber(ARGV[8]))
local perMs = maxPerMs * f
local tokens = tonumber(b[1]) or capacity
local ts = tonumber(b[2]) or now
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * perMs)
  ts = now
end
local pause = tonumber(b[3]) or 0
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now)
local wait = 0
if now < pause then
  wait = pause - now
elseif ARGV[4] == "low" and redis.call("ZCARD", KEYS[2]) > 0 then
  wait = 1 / perMs
elseif tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / perMs
end
if ARGV[4] == "high" then
  if wait > 0 or ARGV[7] == "1" then
    redis.call("ZADD", KEYS[2], now + tonumber(ARGV[6]), ARGV[5])
  else
    redis.call("ZREM", KEYS[2], ARGV[5])
  end
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "ts", tostring(ts), "f", tostring(f))
redis.call("PEXPIRE", KEYS[1], ARGV[9])
redis.call("PEXPIRE", KEYS[2], ARGV[9])
return math.ceil(wait)
`;

/**
 * The vendor refused a request (429): pause the bucket for the fleet, empty it, and cut the rate
 * factor unless a pause was already running (one cut per congestion event).
 * KEYS: bucket hash. ARGV: now, pause ms, decrease, min factor, idle ttl (real ms).
 */
const THROTTLE = `
local now = tonumber(ARGV[1])
local b = redis.call("HMGET", KEYS[1], "pause", "f")
local pause = tonumber(b[1]) or 0
local f = tonumber(b[2]) or 1
if now >= pause then
  f = math.max(tonumber(ARGV[4]), f * tonumber(ARGV[3]))
end
pause = math.max(pause, now + tonumber(ARGV[2]))
redis.call("HSET", KEYS[1], "tokens", "0", "ts", tostring(now), "pause", tostring(pause), "f", tostring(f))
redis.call("PEXPIRE", KEYS[1], ARGV[5])
return 1
`;

/**
 * Records this process's count of videos being waited for (renewing its lease) and returns the
 * fleet's total; counts of processes whose lease ran out (killed, lost) are dropped.
 * KEYS: counts hash, leases zset. ARGV: now, member, count, lease (clock ms), idle ttl (real ms).
 */
const WAITS = `
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[3])
local dead = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now)
for _, m in ipairs(dead) do
  redis.call("HDEL", KEYS[1], m)
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now)
if count > 0 then
  redis.call("HSET", KEYS[1], ARGV[2], count)
  redis.call("ZADD", KEYS[2], now + tonumber(ARGV[4]), ARGV[2])
else
  redis.call("HDEL", KEYS[1], ARGV[2])
  redis.call("ZREM", KEYS[2], ARGV[2])
end
local total = 0
for _, v in ipairs(redis.call("HVALS", KEYS[1])) do
  total = total + tonumber(v)
end
redis.call("PEXPIRE", KEYS[1], ARGV[5])
redis.call("PEXPIRE", KEYS[2], ARGV[5])
return total
`;

export interface RedisBucketOptions {
    redis: Redis;
    token: string;
    requestsPerMinute: number;
    /** One line per slow episode; never given the URL's password. */
    warn: (message: string) => void;
    /** The Redis URL as it may be shown. */
    where: string;
    /** Real time, for backing off from Redis (defaults to Date.now). */
    realNow?: () => number;
}

/** The prefix of every key of this key-and-rate's budget: a hash, never the token. */
export function budgetKeyPrefix(token: string, requestsPerMinute: number): string {
    const digest = createHash("sha256")
        .update(`pulumi-imagine-video/budget\n${token}\n${requestsPerMinute}`)
        .digest("hex");
    return `imagine-video:budget:{${digest.slice(0, 32)}}`;
}

export class RedisBucket implements SharedBucket {
    private readonly redis: Redis;
    private readonly keys: { bucket: string; demand: string; waits: string; leases: string };
    /** This process in the fleet's demand and wait counts: random, says nothing about the machine. */
    private readonly member = randomUUID();
    private readonly maxPerMs: number;
    private readonly capacity: number;
    private readonly demandTtlMs: number;
    private readonly realNow: () => number;
    private successes = 0;
    private avoidUntil = 0;
    private avoidMs = RETRY_REDIS_AFTER_MS;
    private slowWarned = false;
    private firstConnect: Promise<void> | undefined;

    constructor(private readonly options: RedisBucketOptions) {
        this.redis = options.redis;
        const prefix = budgetKeyPrefix(options.token, options.requestsPerMinute);
        this.keys = {
            bucket: `${prefix}:bucket`,
            demand: `${prefix}:demand`,
            waits: `${prefix}:waits`,
            leases: `${prefix}:leases`,
        };
        this.maxPerMs = (options.requestsPerMinute * PACING) / 60_000;
        this.capacity = Math.max(1, Math.ceil(options.requestsPerMinute / 60));
        this.demandTtlMs = Math.max(5000, 4 / this.maxPerMs);
        this.realNow = options.realNow ?? Date.now;
        defineScripts(this.redis);
        this.redis.on("ready", () => {
            this.avoidUntil = 0;
        });
    }

    async take(priority: Priority, now: number, moreHigh: boolean): Promise<number | undefined> {
        if (!(await this.usable())) {
            return undefined;
        }
        const successes = this.successes;
        this.successes = 0;
        try {
            const wait = await this.redis.imagineBudgetTake(
                this.keys.bucket,
                this.keys.demand,
                now,
                this.maxPerMs,
                this.capacity,
                priority,
                this.member,
                this.demandTtlMs,
                moreHigh ? 1 : 0,
                successes,
                IDLE_TTL_MS,
                INCREASE_SHARE,
            );
            this.answered();
            return Math.max(0, Number(wait));
        } catch (e) {
            this.successes += successes;
            this.failed(e);
            return undefined;
        }
    }

    throttled(now: number, pauseMs: number): void {
        if (this.redis.status !== "ready" || this.realNow() < this.avoidUntil) {
            return;
        }
        this.redis
            .imagineBudgetThrottle(
                this.keys.bucket,
                now,
                Math.ceil(pauseMs),
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
    async syncWaits(localCount: number, now: number, leaseMs: number): Promise<number | undefined> {
        if (!(await this.usable())) {
            return undefined;
        }
        try {
            const total = await this.redis.imagineFleetWaits(
                this.keys.waits,
                this.keys.leases,
                now,
                this.member,
                localCount,
                leaseMs,
                IDLE_TTL_MS,
            );
            this.answered();
            return Number(total);
        } catch (e) {
            this.failed(e);
            return undefined;
        }
    }

    /** Whether to ask Redis now: connected, and not shunned after a slow answer. */
    private async usable(): Promise<boolean> {
        this.firstConnect ??= waitForConnection(this.redis, FIRST_CONNECT_MS);
        await this.firstConnect;
        return this.redis.status === "ready" && this.realNow() >= this.avoidUntil;
    }

    private answered(): void {
        this.avoidMs = RETRY_REDIS_AFTER_MS;
        if (this.slowWarned) {
            this.slowWarned = false;
            this.options.warn(
                `Redis at ${this.options.where} answers in time again: back on the shared request budget.`,
            );
        }
    }

    private failed(e: unknown): void {
        this.avoidUntil = this.realNow() + this.avoidMs;
        this.avoidMs = Math.min(RETRY_REDIS_MAX_MS, this.avoidMs * 2);
        // A lost connection is reported once by the connection itself; a slow answer is reported here.
        const slow = /timed? ?out/i.test((e as Error)?.message ?? "");
        if (slow && !this.slowWarned && this.redis.status === "ready") {
            this.slowWarned = true;
            this.options.warn(
                `Redis at ${this.options.where} did not answer within its command timeout; this process uses its own request budget until it does.`,
            );
        }
    }
}

function defineScripts(redis: Redis): void {
    if (typeof (redis as Partial<Redis>).imagineBudgetTake === "function") {
        return;
    }
    redis.defineCommand("imagineBudgetTake", { numberOfKeys: 2, lua: TAKE });
    redis.defineCommand("imagineBudgetThrottle", { numberOfKeys: 1, lua: THROTTLE });
    redis.defineCommand("imagineFleetWaits", { numberOfKeys: 2, lua: WAITS });
}

/** Resolves when the client is ready, has failed to connect, or after `ms` (real), whichever is first. */
function waitForConnection(redis: Redis, ms: number): Promise<void> {
    if (redis.status === "ready") {
        return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
        const done = () => {
            clearTimeout(timer);
            redis.off("ready", done);
            redis.off("error", done);
            redis.off("end", done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        redis.once("ready", done);
        redis.once("error", done);
        redis.once("end", done);
    });
}
