/**
 * The Redis store of the ledger of accepted generations (when `imagine:redisUrl` is set), so a fresh CI
 * runner sees what a lost one recorded. One hash per resource, `imagine:ledger:<project>:<stack>:<name>`
 * (each part URI-encoded), field = video id, value = the entry as JSON; the key expires
 * `imagine:ledgerDays` after its last write. Each write is one MULTI (HSET + PEXPIRE). Never waits for a
 * Redis that is down: a command then fails at once and the Ledger falls back to the file.
 */
import type Redis from "ioredis";
import { whenReady } from "../budget/redis-connection";
import { LedgerEntry, LedgerKey, LedgerStore } from "./ledger";

/** How long a first use waits for the lazy connection (a Redis that is down fails faster). */
const CONNECT_WAIT_MS = 1500;

export class RedisLedgerStore implements LedgerStore {
    readonly description = "Redis (imagine:redisUrl)";

    constructor(
        private readonly redis: Redis,
        private readonly days: number,
    ) {}

    static keyOf(key: LedgerKey): string {
        return `imagine:ledger:${[key.project, key.stack, key.name].map(encodeURIComponent).join(":")}`;
    }

    async entries(key: LedgerKey): Promise<LedgerEntry[]> {
        const r = await this.ready();
        const all = await r.hgetall(RedisLedgerStore.keyOf(key));
        const out: LedgerEntry[] = [];
        for (const value of Object.values(all)) {
            try {
                const e = JSON.parse(value) as LedgerEntry;
                if (typeof e.videoId === "string" && typeof e.digest === "string" && typeof e.at === "number") {
                    out.push({ ...e, key });
                }
            } catch {
                /* not an entry of ours: ignored */
            }
        }
        return out;
    }

    async put(entry: LedgerEntry): Promise<void> {
        const r = await this.ready();
        const k = RedisLedgerStore.keyOf(entry.key);
        const results = await r
            .multi()
            .hset(k, entry.videoId, JSON.stringify(entry))
            .pexpire(k, Math.round(this.days * 86_400_000))
            .exec();
        const failed = (results ?? []).find(([err]) => err);
        if (!results || failed) {
            throw failed?.[0] ?? new Error("the transaction was discarded");
        }
    }

    async remove(key: LedgerKey, videoId: string): Promise<void> {
        const r = await this.ready();
        await r.hdel(RedisLedgerStore.keyOf(key), videoId);
    }

    /** The client once connected; throws at once when Redis is known to be down. */
    private async ready(): Promise<Redis> {
        const r = this.redis;
        if (r.status === "ready") {
            return r;
        }
        if (r.status === "wait") {
            r.connect().catch(() => undefined); // failures reach the client's "error" listener
        }
        if (!["wait", "connecting", "connect"].includes(r.status)) {
            throw new Error(`not connected (${r.status})`);
        }
        if (!(await whenReady(r, CONNECT_WAIT_MS))) {
            throw new Error(`not connected (${r.status})`);
        }
        return r;
    }
}
