/**
 * The one ioredis client per Redis URL in this process (shared by the request budget and the ledger of
 * accepted generations). Lazy: it connects at first use. No offline queue: a command while Redis is down
 * fails at once (callers fall back to their local stand-ins), and a short command timeout bounds a hung
 * server. It keeps reconnecting in the background, so the process rejoins Redis when it is back.
 * The URL may hold a password: it is never logged.
 */
import Redis from "ioredis";

const clients = new Map<string, Redis>();

/** The shared client of `url`; `warn` hears about connection trouble (once per outage). */
export function sharedRedis(url: string, warn: (msg: string) => void): Redis {
    let client = clients.get(url);
    if (!client) {
        let down = false;
        client = new Redis(url, {
            lazyConnect: true,
            enableOfflineQueue: false,
            commandTimeout: 1000,
            connectTimeout: 1000,
            maxRetriesPerRequest: 0,
            // Reconnect in the background, never giving up: 100 ms doubling to 2 s.
            retryStrategy: (times) => Math.min(2000, 100 * 2 ** Math.min(times, 5)),
        });
        client.on("error", (e: Error) => {
            if (!down) {
                down = true;
                warn(`Redis (imagine:redisUrl) is unavailable: ${e.message}; working without it until it is back`);
            }
        });
        client.on("ready", () => (down = false));
        clients.set(url, client);
    }
    return client;
}
