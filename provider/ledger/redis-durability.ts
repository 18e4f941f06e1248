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

/** What a Redis says of how it keeps data; a field is undefined when the Redis would not say. */
export interface RedisDurability {
    /** Append-only file on (INFO persistence, `aof_enabled`). */
    aof?: boolean;
    /** The RDB save schedule (`CONFIG GET save`; managed services often refuse CONFIG); "" when none. */
    save?: string;
    /** `maxmemory-policy` (INFO memory). */
    evictionPolicy?: string;
}

/**
 * Reads how the Redis keeps data: INFO where it can (allowed even where CONFIG is not), CONFIG GET only
 * for the save schedule. The one reading of the ledger's warning and of `imagine-video doctor`.
 */
export async function readDurability(redis: Redis): Promise<RedisDurability> {
    const [persistence, memory, save] = await Promise.all([
        infoFields(redis, "persistence"),
        infoFields(redis, "memory"),
        redis.call("CONFIG", "GET", "save").then(
            (pair) => (Array.isArray(pair) && pair.length >= 2 ? String(pair[1]) : undefined),
            () => undefined,
        ),
    ]);
    const aof = persistence.aof_enabled;
    return {
        aof: aof === undefined ? undefined : aof === "1",
        save,
        evictionPolicy: memory.maxmemory_policy,
    };
}

/** Whether the Redis survives a restart with its data: true, false, or undefined when it would not say. */
export function persists(d: RedisDurability): boolean | undefined {
    if (d.aof === true || (d.save !== undefined && d.save.trim() !== "")) {
        return true;
    }
    return d.aof === false && d.save !== undefined ? false : undefined;
}

/** What is wrong with the Redis's configuration for the ledger, in words; empty when nothing (or not known). */
export async function durabilityProblems(redis: Redis): Promise<string[]> {
    const d = await readDurability(redis);
    const problems: string[] = [];
    if (persists(d) === false) {
        problems.push("has no persistence (appendonly no, no RDB saves)");
    }
    if (d.evictionPolicy !== undefined && d.evictionPolicy !== "noeviction") {
        problems.push(`evicts keys (maxmemory-policy ${d.evictionPolicy})`);
    }
    return problems;
}

/** The `field:value` lines of one INFO section. */
async function infoFields(redis: Redis, section: string): Promise<Record<string, string>> {
    const fields: Record<string, string> = {};
    for (const line of (await redis.info(section)).split(/\r?\n/)) {
        const at = line.indexOf(":");
        if (at > 0) {
            fields[line.slice(0, at)] = line.slice(at + 1);
        }
    }
    return fields;
}
