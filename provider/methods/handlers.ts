/** The dynamic provider's methods (configure, check, diff, create, read, update, delete), wired to shared clients. */
import * as pulumi from "@pulumi/pulumi";
import { createHash, randomBytes } from "crypto";
import type Redis from "ioredis";
import { ImagineClient } from "../api/client";
import { Clock, systemClock } from "../core/clock";
import { diffVideo } from "./diff";
import { GenerationTimes } from "../polling/generation-times";
import { checkInputs, UNKNOWN } from "../inputs/inputs";
import { accountOf, definingDigest, identityOf, Ledger } from "../ledger/ledger";
import { FileLedgerStore } from "../ledger/ledger-file";
import { ownerId } from "../ledger/lease";
import { RedisLedgerStore } from "../ledger/ledger-redis";
import * as path from "path";
import { OperationContext } from "../lifecycle/context";
import { createVideo } from "../lifecycle/create";
import { deleteVideo } from "../lifecycle/delete";
import { readVideo } from "../lifecycle/read";
import { updateVideo } from "../lifecycle/update";
import { createKeyBudget, KeyBudget } from "../budget/key-budget";
import { sharedRedis } from "../budget/redis-connection";
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
    /** Videos the creates of this process are working on (see Ledger), and the owner id its ledger entries carry. */
    const ledgerInFlight = new Set<string>();
    const ledgerOwner = ownerId(randomBytes(4).toString("hex"));
    let getConfig: ConfigGetter = () => undefined;
    let context: { key: string; ctx: OperationContext } | undefined;
    /**
     * One budget and one count of waits per API key, rate and Redis, for the life of the process.
     * With `imagine:redisUrl`, both are shared with every process using the key (see RedisBucket).
     */
    const perKey = new Map<string, KeyBudget>();
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
            entry = createKeyBudget(settings, { clock, warn, redis: redisFor, speed: deps.speed });
            perKey.set(k, entry);
        }
        return entry;
    };

    /** The ledger's Redis store when `imagine:redisUrl` is set (and ioredis installed). */
    const redisLedger = (settings: ProviderSettings) => {
        const redis = settings.redisUrl ? redisFor(settings.redisUrl) : undefined;
        return redis ? new RedisLedgerStore(redis, settings.ledgerDays, warn) : undefined;
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
                local: new FileLedgerStore(ledgerFile, settings.ledgerPath, warn, { days: settings.ledgerDays }),
                account: accountOf(settings.baseUrl, settings.token),
                days: settings.ledgerDays,
                warn,
                inFlight: ledgerInFlight,
                owner: ledgerOwner,
            });
            context = {
                key,
                ctx: {
                    client: new ImagineClient(sender, log),
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

    /**
     * The engine showed this id back (diff, read, update): it is in state, so every ledger entry of the
     * id (under any identity, in every store) can go. No I/O when the ledger does not hold the id.
     */
    const confirm = async (id: string) => {
        if (!id) {
            return;
        }
        let c: OperationContext;
        try {
            c = ctx();
        } catch {
            return; // a configuration problem: the operation itself reports it where it matters
        }
        await c.ledger?.shown(id);
    };

    /**
     * A video an interrupted `up --replace` of this resource started with these very inputs (its create was
     * killed while it waited, so the engine never recorded it): a plain `up` finishes the replacement,
     * adopting that video (create finds it in the ledger) and deleting the old one, instead of leaking it.
     */
    const interruptedReplacement = async (id: string, news: Props): Promise<string | undefined> => {
        const identity = identityOf(news.identity);
        if (!identity || Object.values(news).includes(UNKNOWN)) {
            return undefined;
        }
        let c: OperationContext;
        try {
            c = ctx();
        } catch {
            return undefined;
        }
        const digest = definingDigest(news);
        const found = await c.ledger?.find(identity);
        return found?.find((e) => e.state === "accepted" && e.digest === digest && e.videoId !== id)?.videoId;
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
            await confirm(id);
            const d = diffVideo(olds, news);
            const pending = d.replaces.length === 0 ? await interruptedReplacement(id, news) : undefined;
            if (pending !== undefined) {
                log(
                    `video ${id}: an interrupted \`pulumi up --replace\` started video ${pending} with these inputs; this up adopts it and deletes ${id}`,
                );
                return { changes: true, replaces: ["videoId"], deleteBeforeReplace: false };
            }
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
            await confirm(id);
            return readVideo(c, id, props);
        },
        async update(id, olds, news) {
            const c = ctx();
            await confirm(id);
            return updateVideo(c, id, olds, news);
        },
        async delete(id, props) {
            await deleteVideo(ctx(), id, props);
        },
    };
}
