/** The dynamic provider's methods (configure, check, diff, create, read, update, delete), wired to shared clients. */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type Redis from "ioredis";
import { RequestBudget } from "../budget/budget";
import { ImagineClient } from "../api/client";
import { Clock, systemClock } from "../core/clock";
import { diffVideo } from "./diff";
import { GenerationTimes } from "../polling/generation-times";
import { FleetWaits } from "../budget/fleet-waits";
import { checkInputs } from "../inputs/inputs";
import { accountOf, identityOf, Ledger } from "../ledger/ledger";
import { FileLedgerStore } from "../ledger/ledger-file";
import { RedisLedgerStore } from "../ledger/ledger-redis";
import * as path from "path";
import { OperationContext } from "../lifecycle/context";
import { createVideo } from "../lifecycle/create";
import { deleteVideo } from "../lifecycle/delete";
import { readVideo } from "../lifecycle/read";
import { updateVideo } from "../lifecycle/update";
import { RedisBucket } from "../budget/redis-budget";
import { redisUrlForDisplay, sharedRedis } from "../budget/redis-connection";
import { RequestSender } from "../api/request-sender";
import { BackoffPolicy } from "../api/retry";
import { ConfigGetter, ProviderSettings, resolveSettings } from "../inputs/settings";

type Props = Record<string, unknown>;

/** What the dynamic provider host calls: the methods of a `pulumi.dynamic.ResourceProvider`. */
export interface VideoHandlers {
    configure(req: { config: { get(key: string): string | undefined } }): Promise<void>;
    check(olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
    diff(
        id: string,
        olds: Props,
        news: Props,
    ): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }>;
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
    /** The Redis client for `imagine:redisUrl` (default: the process's shared one for that URL); asked once per URL. */
    redis?: (url: string, warn: (message: string) => void) => Redis | undefined;
    /**
     * Provider clock ms per real ms, for accelerated benchmarks only (with a `scaledClock` of the same
     * factor): the Redis budget keeps Redis's clock and scales its rates by it. Default 1.
     */
    speed?: number;
}

/**
 * Builds the provider's methods over one shared client per configuration, so every resource in
 * the provider process shares its remembered URL forms (and, later, its request budget).
 */
export function createHandlers(deps: HandlerDependencies = {}): VideoHandlers {
    const clock = deps.clock ?? systemClock;
    const log = deps.log ?? ((m: string) => pulumi.log.info(m));
    const cwd = deps.cwd ?? (() => process.cwd());
    const warn = deps.warn ?? (deps.log ? (m: string) => log(`warning: ${m}`) : (m: string) => pulumi.log.warn(m));
    /** Videos the creates of this process are working on (see Ledger). */
    const ledgerInFlight = new Set<string>();
    let getConfig: ConfigGetter = () => undefined;
    let context: { key: string; ctx: OperationContext } | undefined;
    /**
     * One budget and one count of waits per API key, rate and Redis, for the life of the process.
     * With `imagine:redisUrl`, both are shared with every process using the key (see RedisBucket).
     */
    const perKey = new Map<string, { budget: RequestBudget; waits: { inFlight: number } }>();
    /** How long each style's generations take, learned for the life of the process (polling plans around it). */
    const learned = new GenerationTimes();
    /**
     * One Redis client per URL for this provider instance, asked for once and shared by the budget
     * and the ledger (an injected `deps.redis` that connects anew is one connection, not one per use).
     */
    const redisClients = new Map<string, Redis | undefined>();
    const redisFor = (url: string): Redis | undefined => {
        if (!redisClients.has(url)) {
            redisClients.set(url, (deps.redis ?? sharedRedis)(url, warn));
        }
        return redisClients.get(url);
    };
    const shared = (settings: ProviderSettings) => {
        const hash = (s: string) => createHash("sha256").update(s).digest("hex");
        const k = `${hash(settings.token)}/${settings.requestsPerMinute}/${settings.queueTimeoutMs}/${settings.redisUrl ? hash(settings.redisUrl) : ""}`;
        let entry = perKey.get(k);
        if (!entry) {
            const url = settings.redisUrl;
            const redis = url ? redisFor(url) : undefined;
            const bucket =
                url && redis
                    ? new RedisBucket({
                          redis,
                          token: settings.token,
                          requestsPerMinute: settings.requestsPerMinute,
                          warn,
                          where: redisUrlForDisplay(url),
                          speed: deps.speed,
                      })
                    : undefined;
            entry = {
                budget: new RequestBudget(settings.requestsPerMinute, clock, bucket, settings.queueTimeoutMs),
                waits: bucket ? new FleetWaits(clock, (n, lease) => bucket.syncWaits(n, lease)) : { inFlight: 0 },
            };
            perKey.set(k, entry);
        }
        return entry;
    };

    /** The ledger's Redis store when `imagine:redisUrl` is set (and ioredis installed). */
    const redisLedger = (settings: ProviderSettings) => {
        const redis = settings.redisUrl ? redisFor(settings.redisUrl) : undefined;
        return redis ? new RedisLedgerStore(redis, settings.ledgerDays) : undefined;
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
                    log(
                        `${operation}: ${error.constructor.name} (${error.httpStatus ?? "no answer"}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)}s`,
                    ),
            });
            const ledgerFile = path.resolve(cwd(), settings.ledgerPath);
            const ledger = new Ledger({
                shared: redisLedger(settings),
                local: new FileLedgerStore(ledgerFile, settings.ledgerPath, warn),
                account: accountOf(settings.baseUrl, settings.token),
                days: settings.ledgerDays,
                warn,
                inFlight: ledgerInFlight,
            });
            context = {
                key,
                ctx: {
                    client: new ImagineClient(sender),
                    settings,
                    clock,
                    random: deps.random,
                    log,
                    warn,
                    cwd: cwd(),
                    waits,
                    learned,
                    ledger,
                },
            };
        }
        return context.ctx;
    };

    /** The engine showed this id back (diff, read, update): it is in state, so its ledger entry can go. */
    const confirm = async (id: string, props: Props) => {
        const identity = identityOf(props.identity);
        if (!id || !identity) {
            return;
        }
        let c: OperationContext;
        try {
            c = ctx();
        } catch {
            return; // a configuration problem: the operation itself reports it where it matters
        }
        await c.ledger?.remove(identity, id);
    };

    return {
        async configure(req) {
            getConfig = (key) => {
                const v = req.config.get(key);
                return v === undefined || v === null ? undefined : String(v);
            };
        },
        async check(olds, news) {
            // Configuration problems surface here, before any resource is created or paid for.
            resolveSettings(getConfig, deps.env ?? process.env);
            return checkInputs(news, cwd(), olds ?? {});
        },
        async diff(id, olds, news) {
            await confirm(id, olds);
            const d = diffVideo(olds, news);
            if (d.keptFailed) {
                log(
                    `video ${id}: its generation failed, and the resource is protected, so \`pulumi up\` does not replace it ` +
                        "with a new generation. To generate it again, remove `protect` from the program, run `pulumi state unprotect <urn>`, then `pulumi up`.",
                );
            }
            return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
        },
        async create(inputs) {
            return createVideo(ctx(), inputs);
        },
        async read(id, props) {
            const c = ctx();
            await confirm(id, props);
            return readVideo(c, id, props);
        },
        async update(id, olds, news) {
            const c = ctx();
            await confirm(id, olds);
            return updateVideo(c, id, olds, news);
        },
        async delete(id, props) {
            await deleteVideo(ctx(), id, props);
        },
    };
}
