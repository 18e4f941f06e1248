/**
 * Whether the Redis holding the ledger keeps what it is given: checked once per client, at its first use
 * by the ledger, where `CONFIG GET` is allowed (managed services often refuse it: then nothing is said).
 * One warning when Redis has no persistence (no RDB snapshots, no AOF: a restart loses every entry) or
 * evicts keys (a `maxmemory-policy` other than `noeviction`: ledger keys carry a TTL, so even `volatile-*`
 * policies take them). The file keeps a copy either way; the warning says what the Redis must be.
 */
import type Redis from "ioredis";

const checked = new WeakSet<object>();

/** Starts the check for this client (once); never throws, never delays the caller. */
export function checkDurability(redis: Redis, warn: (message: string) => void): void {
    if (checked.has(redis)) {
        return;
    }
    checked.add(redis);
    void durabilityProblems(redis).then(
        (problems) => {
            if (problems.length > 0) {
                warn(
                    `the Redis of imagine:redisUrl ${problems.join(" and ")}: the ledger of accepted generations there can be lost ` +
                        "(the local ledger file keeps a copy for this machine only). Give it persistence (appendonly yes, or RDB saves) " +
                        "and maxmemory-policy noeviction.",
                );
            }
        },
        () => undefined, // CONFIG not allowed, or Redis gone: nothing to say
    );
}

/** What is wrong with the Redis's configuration for the ledger, in words; empty when nothing. */
export async function durabilityProblems(redis: Redis): Promise<string[]> {
    const [aof, save, policy] = await Promise.all(
        ["appendonly", "save", "maxmemory-policy"].map(async (k) => {
            const pair = (await redis.call("CONFIG", "GET", k)) as string[];
            return Array.isArray(pair) && pair.length >= 2 ? String(pair[1]) : undefined;
        }),
    );
    const problems: string[] = [];
    if (aof === "no" && (save === undefined || save.trim() === "")) {
        problems.push("has no persistence (appendonly no, no RDB saves)");
    }
    if (policy !== undefined && policy !== "noeviction") {
        problems.push(`evicts keys (maxmemory-policy ${policy})`);
    }
    return problems;
}
