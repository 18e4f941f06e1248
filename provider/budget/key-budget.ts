/**
 * The request budget of an API key as the settings choose it: local to the process, or shared through
 * Redis (`imagine:redisUrl`) with every process using the key, with the count of videos waited for.
 * Used by the provider's handlers (once per key for the life of the process) and the `imagine-video` CLI.
 */
import type Redis from "ioredis";
import { Clock } from "../core/clock";
import { RequestBudget, SharedBucket } from "./budget";
import { FleetWaits } from "./fleet-waits";
import { RedisBucket } from "./redis-budget";
import { redisUrlForDisplay, sharedRedis } from "./redis-connection";

/** The settings a key's budget is built from (a part of ProviderSettings; budget/ does not import inputs/). */
export interface KeyBudgetSettings {
    token: string;
    requestsPerMinute: number;
    redisUrl?: string;
    /** The outer bound of a request's time in the queue (`imagine:queueTimeoutMinutes`). */
    queueTimeoutMs: number;
}

export interface KeyBudget {
    budget: RequestBudget;
    /** Videos being waited for with this key (across the fleet with Redis): polls space out as it grows. */
    waits: { inFlight: number };
}

export interface KeyBudgetOptions {
    clock: Clock;
    warn: (message: string) => void;
    /** The Redis client for `imagine:redisUrl` (default: the process's shared one for that URL). */
    redis?: (url: string, warn: (message: string) => void) => Redis | undefined;
    /** Builds the budget (default: a RequestBudget); a subclass can gate grants (the CLI on Ctrl-C). */
    budget?: (
        requestsPerMinute: number,
        clock: Clock,
        shared: SharedBucket | undefined,
        queueTimeoutMs: number,
    ) => RequestBudget;
    /** Emulated seconds per real second of the vendor (accelerated benchmarks); the fleet's time is Redis's. */
    speed?: number;
}

/** A new budget for the settings' key and rate, through Redis when `redisUrl` is set and ioredis installed. */
export function createKeyBudget(settings: KeyBudgetSettings, o: KeyBudgetOptions): KeyBudget {
    const url = settings.redisUrl;
    const redis = url ? (o.redis ?? sharedRedis)(url, o.warn) : undefined;
    const bucket =
        url && redis
            ? new RedisBucket({
                  redis,
                  token: settings.token,
                  requestsPerMinute: settings.requestsPerMinute,
                  warn: o.warn,
                  where: redisUrlForDisplay(url),
                  speed: o.speed,
              })
            : undefined;
    const make = o.budget ?? ((rpm, clock, shared, queueMs) => new RequestBudget(rpm, clock, shared, queueMs));
    return {
        budget: make(settings.requestsPerMinute, o.clock, bucket, settings.queueTimeoutMs),
        waits: bucket ? new FleetWaits(o.clock, (n, lease) => bucket.syncWaits(n, lease)) : { inFlight: 0 },
    };
}
