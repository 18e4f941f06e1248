/**
 * The Redis store of the ledger of accepted generations (when `imagine:redisUrl` is set), so a fresh CI
 * runner sees what a lost one recorded; the file keeps a second copy (see Ledger). One hash per resource,
 * `imagine:ledger:<organization>:<project>:<stack>:<parent>:<name>` (each part URI-encoded; the parent's
 * URN as a hash), field = video id, value = the entry as JSON; and one set per video id,
 * `imagine:ledger-id:<id>`, naming the hashes that hold it. Keys expire `imagine:ledgerDays` after their
 * last write. Each write is one MULTI. Never waits for a Redis that is down: a command then fails at once
 * and the Ledger goes on with the file. At the first connection, Redis's persistence and eviction are
 * checked (see redis-durability.ts).
 */
import { createHash } from "crypto";
import type Redis from "ioredis";
import { whenReady } from "../budget/redis-connection";
import { LedgerEntry, LedgerKey, LedgerStore } from "./ledger";
import { checkDurability } from "./redis-durability";

/** How long a first use waits for the lazy connection (a Redis that is down fails faster). */
const CONNECT_WAIT_MS = 1500;

export class RedisLedgerStore implements LedgerStore {
    readonly description = "Redis (imagine:redisUrl)";

    constructor(
        private readonly redis: Redis,
        private readonly days: number,
        private readonly warn: (message: string) => void = () => undefined,
    ) {}

    static keyOf(key: LedgerKey): string {
        const parent = key.parent ? createHash("sha256").update(key.parent).digest("hex").slice(0, 16) : "";
        return `imagine:ledger:${[key.organization ?? "", key.project, key.stack, parent, key.name].map(encodeURIComponent).join(":")}`;
    }

    static idKeyOf(videoId: string): string {
        return `imagine:ledger-id:${encodeURIComponent(videoId)}`;
    }

    /** Every entry of every resource (the CLI's `sweep`): the `imagine:ledger:*` hashes, found with SCAN. */
    async all(): Promise<LedgerEntry[]> {
        const r = await this.ready();
        const out: LedgerEntry[] = [];
        let cursor = "0";
        do {
            const [next, keys] = await r.scan(cursor, "MATCH", "imagine:ledger:*", "COUNT", 500);
            cursor = next;
            for (const k of keys) {
                // Each value carries its entry's own key (the parent is only hashed into the Redis key).
                out.push(...Object.values(await r.hgetall(k)).flatMap((v) => parseEntry(v)));
            }
        } while (cursor !== "0");
        return out;
    }

    async entries(key: LedgerKey): Promise<LedgerEntry[]> {
        const r = await this.ready();
        const all = await r.hgetall(RedisLedgerStore.keyOf(key));
        return Object.values(all).flatMap((v) => parseEntry(v, key));
    }

    async byId(videoId: string): Promise<LedgerEntry[]> {
        const r = await this.ready();
        const keys = await r.smembers(RedisLedgerStore.idKeyOf(videoId));
        if (keys.length === 0) {
            return [];
        }
        const pipeline = r.pipeline();
        keys.forEach((k) => pipeline.hget(k, videoId));
        const values = (await pipeline.exec()) ?? [];
        return values.flatMap(([err, v]) => (err || typeof v !== "string" ? [] : parseEntry(v)));
    }

    async put(entry: LedgerEntry): Promise<void> {
        const r = await this.ready();
        const k = RedisLedgerStore.keyOf(entry.key);
        const idKey = RedisLedgerStore.idKeyOf(entry.videoId);
        const ttl = Math.round(this.days * 86_400_000);
        const results = await r
            .multi()
            .hset(k, entry.videoId, JSON.stringify(entry))
            .pexpire(k, ttl)
            .sadd(idKey, k)
            .pexpire(idKey, ttl)
            .exec();
        const failed = (results ?? []).find(([err]) => err);
        if (!results || failed) {
            throw failed?.[0] ?? new Error("the transaction was discarded");
        }
    }

    async remove(key: LedgerKey, videoId: string): Promise<void> {
        const r = await this.ready();
        const k = RedisLedgerStore.keyOf(key);
        await r.multi().hdel(k, videoId).srem(RedisLedgerStore.idKeyOf(videoId), k).exec();
    }

    /** The client once connected; throws at once when Redis is known to be down. */
    private async ready(): Promise<Redis> {
        const r = this.redis;
        if (r.status !== "ready") {
            await this.connected();
        }
        checkDurability(r, this.warn);
        return r;
    }

    private async connected(): Promise<void> {
        const r = this.redis;
        if (r.status === "wait") {
            r.connect().catch(() => undefined); // failures reach the client's "error" listener
        }
        if (!["wait", "connecting", "connect"].includes(r.status)) {
            throw new Error(`not connected (${r.status})`);
        }
        if (!(await whenReady(r, CONNECT_WAIT_MS))) {
            throw new Error(`not connected (${r.status})`);
        }
    }
}

/** An entry stored as JSON, or nothing when it is not one of ours; `key` (the hash's) wins over the stored one. */
function parseEntry(value: string, key?: LedgerKey): LedgerEntry[] {
    try {
        const e = JSON.parse(value) as LedgerEntry;
        if (
            typeof e.videoId === "string" &&
            typeof e.digest === "string" &&
            typeof e.at === "number" &&
            typeof (key ?? e.key) === "object" &&
            (key ?? e.key) !== null
        ) {
            return [{ ...e, key: key ?? e.key }];
        }
    } catch {
        /* not an entry of ours: ignored */
    }
    return [];
}
