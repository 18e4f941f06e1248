/**
 * The one ioredis client per Redis URL in this process, for everything that keeps shared state in
 * Redis (the request budget of an API key, ...). Built so that Redis is never a new way to fail:
 * no offline queue (a command fails at once while disconnected), a short command timeout,
 * reconnection in the background (the process rejoins when Redis is back), and one warning line
 * per outage. The URL's password never appears in a message.
 */
import type Redis from "ioredis";

/** How long one Redis command may take before its caller goes on without Redis (real ms). */
export const COMMAND_TIMEOUT_MS = 1000;
/** How long connecting may take before the attempt counts as failed (real ms). */
export const CONNECT_TIMEOUT_MS = 2000;

type Warn = (msg: string) => void;

const clients = new Map<string, { client: Redis; warns: Set<Warn> }>();

type RedisClass = typeof import("ioredis").default;

/**
 * ioredis, an optional peer dependency of this package (only `imagine:redisUrl` needs it, so a program
 * without Redis does not install it); undefined when the program has not installed it.
 */
function loadIoredis(): RedisClass | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const m = require("ioredis") as RedisClass & { default?: RedisClass };
        return m.default ?? m;
    } catch {
        return undefined;
    }
}

let missingWarned = false;

/**
 * The process's client for `url`, created (and connecting) on first use. `warn` hears one line when
 * Redis becomes unreachable and one when it answers again. Undefined, with one warning, when the
 * program has not installed ioredis: everything then stays local to the process.
 */
export function sharedRedis(url: string, warn: Warn): Redis | undefined {
    let entry = clients.get(url);
    if (!entry) {
        if (!loadIoredis()) {
            if (!missingWarned) {
                missingWarned = true;
                warn(
                    "imagine:redisUrl is set, but the ioredis package is not installed in this program: run `npm install ioredis` " +
                        "beside pulumi-imagine-video. Until then the request budget and the ledger of accepted generations are local to this process.",
                );
            }
            return undefined;
        }
        const warns = new Set<Warn>();
        entry = { client: connectRedis(url, (m) => warns.forEach((w) => w(m))), warns };
        clients.set(url, entry);
    }
    entry.warns.add(warn);
    return entry.client;
}

interface Watch {
    /** Calls waiting for the connection to settle (ready, or failed): each is called once. */
    settled: Set<() => void>;
    /** Told every time the client becomes ready. */
    ready: Set<() => void>;
}
const watches = new WeakMap<Redis, Watch>();

/**
 * The client's connection state, watched once per client: one listener per event, whatever the
 * number of calls waiting for it (2,000 queued deletes add none).
 */
function watch(redis: Redis): Watch {
    let w = watches.get(redis);
    if (!w) {
        const created: Watch = { settled: new Set(), ready: new Set() };
        const settle = () => {
            const waiting = [...created.settled];
            created.settled.clear();
            waiting.forEach((f) => f());
        };
        redis.on("ready", () => {
            settle();
            created.ready.forEach((f) => f());
        });
        redis.on("error", settle);
        redis.on("close", settle);
        redis.on("end", settle);
        watches.set(redis, created);
        w = created;
    }
    return w;
}

/** Resolves whether the client is ready, once it is, has failed to connect, or after `ms` (real), whichever is first. */
export function whenReady(redis: Redis, ms: number): Promise<boolean> {
    if (redis.status === "ready") {
        return Promise.resolve(true);
    }
    const w = watch(redis);
    return new Promise<boolean>((resolve) => {
        const done = () => {
            clearTimeout(timer);
            w.settled.delete(done);
            resolve(redis.status === "ready");
        };
        const timer = setTimeout(done, ms);
        timer.unref(); // the connection attempt holds the process, not this bound on it
        w.settled.add(done);
    });
}

/** Calls `f` every time the client (re)connects, through the client's one watcher. */
export function onReady(redis: Redis, f: () => void): void {
    watch(redis).ready.add(f);
}

/** Disconnects every shared client (scripts and tests that must exit; a provider process just ends). */
export async function closeSharedRedis(): Promise<void> {
    const all = [...clients.values()];
    clients.clear();
    await Promise.all(all.map(({ client }) => disconnect(client)));
}

/** Ends one client without waiting for Redis (it may be gone); resolves once it is closed, or after 1 s. */
export async function disconnect(client: Redis): Promise<void> {
    // A client between reconnection attempts has no connection left to close: no "end" follows.
    const waiting = client.status === "reconnecting" || client.status === "end";
    forgetClosedStream(client);
    client.disconnect(false);
    if (waiting || client.status === "end") {
        return;
    }
    await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        timer.unref();
        client.once("end", () => {
            clearTimeout(timer);
            resolve();
        });
    });
}

/**
 * ioredis's disconnect ends its connector's last socket and arms a timer (disconnectTimeout, not
 * unref'd) that is cleared only by that socket's "close". A client between reconnection attempts
 * (Redis unreachable) or already ended still holds its last socket, closed long ago: no "close"
 * follows, and the timer kept the process alive for its whole second after the disconnect. A closed
 * socket has nothing left to end, so the connector is told it has none (ioredis 5's connector
 * field; without it, nothing changes).
 */
function forgetClosedStream(client: Redis): void {
    const connector = (client as unknown as { connector?: { stream?: { destroyed?: boolean } } }).connector;
    if (connector?.stream?.destroyed) {
        connector.stream = undefined;
    }
}

/**
 * ioredis arms each command's timeout (COMMAND_TIMEOUT_MS, not unref'd) when it is sent, and clears
 * it only when Redis replies without error. A command that fails (an error reply, a connection lost
 * or closed under it, or sent while disconnected: every take while Redis is down) kept its timer,
 * and so the process, alive a second longer (ioredis issue #1535, open). Cleared here once the
 * command's promise has rejected, when no answer can reach the caller any more (ioredis 5's
 * `_commandTimeoutTimer`; without it, nothing changes). Commands that still wait keep theirs: it
 * bounds them, and holds the process until they settle.
 */
function clearTimeoutsOfFailedCommands(client: Redis): void {
    const send = client.sendCommand.bind(client);
    client.sendCommand = (command, ...rest) => {
        const sent = send(command, ...rest);
        const c = command as unknown as { _commandTimeoutTimer?: ReturnType<typeof setTimeout> };
        command.promise.then(undefined, () => {
            if (c._commandTimeoutTimer) {
                clearTimeout(c._commandTimeoutTimer);
                delete c._commandTimeoutTimer;
            }
        });
        return sent;
    };
}

/**
 * A new client for `url` (not shared): what sharedRedis holds, and what a benchmark of several
 * provider instances in one process gives each instance.
 */
export function connectRedis(url: string, warn: Warn): Redis {
    const Client = loadIoredis();
    if (!Client) {
        throw new Error("the ioredis package is not installed: `npm install ioredis`");
    }
    const shown = redisUrlForDisplay(url);
    const client = new Client(url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        // On disconnect, a socket that does not close is destroyed after this long (ioredis's default
        // of 2 s keeps a timer, and so the process, alive that long after a Redis went away).
        disconnectTimeout: COMMAND_TIMEOUT_MS,
        // Reconnect forever in the background, at most every 2 s.
        retryStrategy: (times: number) => Math.min(250 * times, 2000),
        // No CLIENT SETINFO on each connect: a Redis before 7.2 refuses it (see clearTimeoutsOfFailedCommands).
        disableClientInfo: true,
    });
    clearTimeoutsOfFailedCommands(client);
    let down = false;
    const lost = (why: string) => {
        if (!down) {
            down = true;
            warn(`Redis at ${shown} is unreachable (${why}); going on without it until it answers again.`);
        }
    };
    client.on("error", (e: Error & { code?: string }) => lost(e.code ?? redactUrl(e.message, url)));
    client.on("close", () => {
        if (client.status !== "end") {
            lost("connection closed");
        }
    });
    client.on("ready", () => {
        // The connection alone never keeps a process alive: the provider host decides when it ends.
        client.stream?.unref?.();
        if (down) {
            down = false;
            warn(`Redis at ${shown} answers again.`);
        }
    });
    client.connect().catch(() => undefined); // failures arrive as "error" events
    return client;
}

/** The URL as it may be shown: scheme, host, port and database, never the user or the password. */
export function redisUrlForDisplay(url: string): string {
    try {
        const u = new URL(url);
        return `${u.protocol}//${u.host}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
    } catch {
        return "(the configured Redis URL)";
    }
}

/** Removes the URL and its password from a message that came from the Redis client. */
export function redactUrl(text: string, url: string): string {
    let out = text.split(url).join(redisUrlForDisplay(url));
    try {
        const raw = new URL(url).password;
        for (const password of [raw, decodeURIComponent(raw)]) {
            if (password) {
                out = out.split(password).join("[redacted]");
            }
        }
    } catch {
        // not a URL: nothing more to take out
    }
    return out;
}
