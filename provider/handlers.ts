import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type Redis from "ioredis";
import { RequestBudget } from "./budget";
import { ImagineClient } from "./client";
import { Clock, systemClock } from "./clock";
import { diffVideo } from "./diff";
import { FleetWaits } from "./fleet-waits";
import { checkInputs } from "./inputs";
import { createVideo, deleteVideo, OperationContext, readVideo, updateVideo } from "./operations";
import { RedisBucket } from "./redis-budget";
import { redisUrlForDisplay, sharedRedis } from "./redis-connection";
import { RequestSender } from "./request-sender";
import { BackoffPolicy } from "./retry";
import { ConfigGetter, ProviderSettings, resolveSettings } from "./settings";

type Props = Record<string, unknown>;

/** What the dynamic provider host calls: the methods of a `pulumi.dynamic.ResourceProvider`. */
export interface VideoHandlers {
    configure(req: { config: { get(key: string): string | undefined } }): Promise<void>;
    check(olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
    diff(id: string, olds: Props, news: Props): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }>;
    create(inputs: Props): Promise<{ id: string; outs: Props }>;
    read(id: string, props: Props): Promise<{ id: string; props: Props; inputs?: Props }>;
    update(id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
    delete(id: string, props: Props): Promise<void>;
}

export interface HandlerDependencies {
    clock?: Clock;
    /** Backoff between retries of one request (default: 1 s doubling to 30 s). */
    backoff?: BackoffPolicy;
    random?: () => number;
    log?: (message: string) => void;
    /** Warnings (Redis unreachable or slow); defaults to `log` when given, else pulumi.log.warn. */
    warn?: (message: string) => void;
    env?: NodeJS.ProcessEnv;
    /** Where relative image paths resolve: the program folder (the provider process's cwd). */
    cwd?: () => string;
    /** The Redis client for `imagine:redisUrl` (default: the process's shared one for that URL). */
    redis?: (url: string, warn: (message: string) => void) => Redis;
}

/**
 * Builds the provider's methods over one shared client per configuration, so every resource in
 * the provider process shares its remembered URL forms (and, later, its request budget).
 */
export function createHandlers(deps: HandlerDependencies = {}): VideoHandlers {
    const clock = deps.clock ?? systemClock;
    const log = deps.log ?? ((m: string) => pulumi.log.info(m));
    const warn = deps.warn ?? deps.log ?? ((m: string) => pulumi.log.warn(m));
    const cwd = deps.cwd ?? (() => process.cwd());
    let getConfig: ConfigGetter = () => undefined;
    let context: { key: string; ctx: OperationContext } | undefined;
    /**
     * One budget and one count of waits per API key, rate and Redis, for the life of the process.
     * With `imagine:redisUrl`, both are shared with every process using the key (see RedisBucket).
     */
    const perKey = new Map<string, { budget: RequestBudget; waits: { inFlight: number } }>();
    const shared = (settings: ProviderSettings) => {
        const hash = (s: string) => createHash("sha256").update(s).digest("hex");
        const k = `${hash(settings.token)}/${settings.requestsPerMinute}/${settings.redisUrl ? hash(settings.redisUrl) : ""}`;
        let entry = perKey.get(k);
        if (!entry) {
            const url = settings.redisUrl;
            const bucket = url
                ? new RedisBucket({
                      redis: (deps.redis ?? sharedRedis)(url, warn),
                      token: settings.token,
                      requestsPerMinute: settings.requestsPerMinute,
                      warn,
                      where: redisUrlForDisplay(url),
                  })
                : undefined;
            entry = {
                budget: new RequestBudget(settings.requestsPerMinute, clock, bucket),
                waits: bucket ? new FleetWaits(clock, (n, now, lease) => bucket.syncWaits(n, now, lease)) : { inFlight: 0 },
            };
            perKey.set(k, entry);
        }
        return entry;
    };

    /** Resolves settings on each call (cheap) and rebuilds the client only when they change. */
    const ctx = (): OperationContext => {
        const settings: ProviderSettings = resolveSettings(getConfig, deps.env ?? process.env);
        const key = JSON.stringify(settings);
        if (!context || context.key !== key) {
            const { budget, waits } = shared(settings);
            const sender = new RequestSender({
                budget,
                baseUrl: settings.baseUrl,
                token: settings.token,
                requestTimeoutMs: settings.requestTimeoutMs,
                clock,
                backoff: deps.backoff,
                random: deps.random,
                onRetry: ({ operation, attempt, delayMs, error }) =>
                    log(`${operation}: ${error.constructor.name} (${error.httpStatus ?? "no answer"}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)}s`),
            });
            context = { key, ctx: { client: new ImagineClient(sender), settings, clock, random: deps.random, log, cwd: cwd(), waits } };
        }
        return context.ctx;
    };

    return {
        async configure(req) {
            getConfig = (key) => {
                const v = req.config.get(key);
                return v === undefined || v === null ? undefined : String(v);
            };
        },
        async check(_olds, news) {
            // Configuration problems surface here, before any resource is created or paid for.
            resolveSettings(getConfig, deps.env ?? process.env);
            return checkInputs(news, cwd());
        },
        async diff(_id, olds, news) {
            return diffVideo(olds, news);
        },
        async create(inputs) {
            return createVideo(ctx(), inputs);
        },
        async read(id, props) {
            return readVideo(ctx(), id, props);
        },
        async update(id, olds, news) {
            return updateVideo(ctx(), id, olds, news);
        },
        async delete(id) {
            await deleteVideo(ctx(), id);
        },
    };
}
