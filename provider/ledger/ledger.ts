/**
 * The ledger of accepted generations: the moment the vendor accepts a generation, its id is recorded
 * under the resource's full identity (organization, project, stack, parent, resource name) and a digest
 * of the inputs that define the video, so a `pulumi up` killed while it waited can be followed by one
 * that adopts the video instead of paying for a second one and leaking the first. An entry in progress
 * carries its owner (a process) and a lease the waiting create renews: only an entry whose lease has
 * run out (or whose owner is a process of this machine that is gone) is ever adopted or swept, whatever
 * the naming. Entries are written to the local JSON-lines file always, and to Redis as well when
 * `imagine:redisUrl` is set (two copies: a Redis that loses its keys loses nothing). Any operation that
 * shows a video id marks every entry of that id, under any identity, in every store. The ledger never
 * fails an operation: a store that cannot be read or written is reported (warning) and skipped.
 * It holds no token and no URL: ids, identities, digests, an account fingerprint, owners and times.
 */
import { createHash } from "crypto";
import { leaseIsFree, ownerId } from "./lease";

/** The resource a ledger entry belongs to (the `identity` input of a Video). */
export interface LedgerKey {
    /** `pulumi.getOrganization()`; absent when the host passed none (older CLIs, test harnesses) and in state from 0.1. */
    organization?: string;
    project: string;
    stack: string;
    /** The parent resource's URN, when the Video has a parent: two resources of one name under two parents differ. */
    parent?: string;
    name: string;
}

/**
 * `accepted`: the vendor accepted the generation and `create` has not returned it yet (running, or
 * killed): adoptable once its lease is free. `handed`: an operation showed the id to the engine (create
 * returned it, an adoption took it), which may still have died before recording it: kept for the record
 * until the engine shows the id back (diff, read, update, delete) or the entry expires, never adopted nor swept.
 */
export type LedgerState = "accepted" | "handed";

export interface LedgerEntry {
    key: LedgerKey;
    videoId: string;
    /** {@link definingDigest} of the inputs the generation was started with. */
    digest: string;
    /** {@link accountOf}: which API key and endpoint the id belongs to. */
    account: string;
    state: LedgerState;
    /** When the entry was written (ms since the epoch). */
    at: number;
    /** The process working on it (`host:pid:nonce`); absent in entries of 0.1 (their lease counts as free). */
    owner?: string;
    /** Until when (ms since the epoch) the owner holds it; the waiting create renews it. */
    leaseUntil?: number;
}

/** Where entries are kept: the Redis store or the file store. Methods may throw; the Ledger catches. */
export interface LedgerStore {
    /** For warnings, e.g. "the ledger file .imagine/ledger.jsonl". Never a URL. */
    readonly description: string;
    /** Every entry of the key (expired ones included; the Ledger filters them). */
    entries(key: LedgerKey): Promise<LedgerEntry[]>;
    /** Every entry of the video id, under any identity. */
    byId(videoId: string): Promise<LedgerEntry[]>;
    /** Adds the entry, or replaces the one with the same key and video id. */
    put(entry: LedgerEntry): Promise<void>;
    /** Removes the entry of this key and video id, if there is one. */
    remove(key: LedgerKey, videoId: string): Promise<void>;
}

/** The identity input of a Video, or undefined when absent (state of releases before the ledger) or malformed. */
export function identityOf(value: unknown): LedgerKey | undefined {
    if (typeof value !== "object" || value === null) {
        return undefined;
    }
    const v = value as Record<string, unknown>;
    const ok = (x: unknown): x is string => typeof x === "string" && x !== "";
    if (!ok(v.project) || !ok(v.stack) || !ok(v.name)) {
        return undefined;
    }
    return {
        ...(ok(v.organization) ? { organization: v.organization } : {}),
        project: v.project,
        stack: v.stack,
        ...(ok(v.parent) ? { parent: v.parent } : {}),
        name: v.name,
    };
}

/** One string per identity (the parts joined by a character no part holds unescaped). */
export function keyId(key: LedgerKey): string {
    return [key.organization ?? "", key.project, key.stack, key.parent ?? "", key.name]
        .map(encodeURIComponent)
        .join(":");
}

/** Same key (resource identity). */
export function sameKey(a: LedgerKey, b: LedgerKey): boolean {
    return keyId(a) === keyId(b);
}

/** `sha256:<hex>` of the inputs that define what is generated (prompt, style, aspect ratio, image, extra fields). */
export function definingDigest(inputs: Record<string, unknown>): string {
    const extra = inputs.extraParams as Record<string, unknown> | undefined;
    const canonical = {
        prompt: inputs.prompt ?? null,
        style: inputs.style ?? null,
        aspectRatio: inputs.aspectRatio ?? null,
        imageDigest: inputs.imageDigest ?? null,
        extraParams: extra
            ? Object.fromEntries(
                  Object.keys(extra)
                      .sort()
                      .map((k) => [k, extra[k]]),
              )
            : null,
    };
    return "sha256:" + createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** A one-way fingerprint of the endpoint and API key: video ids are only meaningful for the key that made them. */
export function accountOf(baseUrl: string, token: string): string {
    return createHash("sha256").update(`imagine-ledger\n${baseUrl}\n${token}`).digest("hex").slice(0, 16);
}

/** How long an owner holds an entry without renewing it (the waiting create renews it every third of this). */
export const LEASE_MS = 60_000;

export interface LedgerOptions {
    /** Redis, when `imagine:redisUrl` is set: written through, beside the file. */
    shared?: LedgerStore;
    /** The file: always written, and the only store without Redis. */
    local: LedgerStore;
    account: string;
    /** `imagine:ledgerDays`, in days: older entries are ignored. */
    days: number;
    /** Wall-clock ms (entries are compared across processes and machines); default Date.now. */
    now?: () => number;
    warn: (message: string) => void;
    /** Video ids a create of this process is working on: never adopted, swept or removed by another create. */
    inFlight: Set<string>;
    /** This process's owner id (default: one per process); tests give each provider instance its own. */
    owner?: string;
    /** The lease (default LEASE_MS). */
    leaseMs?: number;
}

/** The ledger as operations use it: every method resolves, whatever the stores do. */
export class Ledger {
    private readonly warned = new Set<string>();
    readonly owner: string;
    private readonly leaseMs: number;

    constructor(private readonly o: LedgerOptions) {
        this.owner = o.owner ?? ownerId();
        this.leaseMs = o.leaseMs ?? LEASE_MS;
    }

    private now(): number {
        return (this.o.now ?? Date.now)();
    }

    /**
     * Entries of this resource for this account that no one else holds, the newest first: `handed` ones,
     * and `accepted` ones whose lease is free. Ids a create of this process holds are left out.
     */
    async find(key: LedgerKey): Promise<LedgerEntry[]> {
        const byId = this.merge(await this.fromStores((s) => s.entries(key)));
        const oldest = this.now() - this.o.days * 86_400_000;
        return [...byId.values()]
            .filter(
                (e) =>
                    e.account === this.o.account &&
                    e.at >= oldest &&
                    sameKey(e.key, key) &&
                    !this.o.inFlight.has(e.videoId) &&
                    (e.state === "handed" || leaseIsFree(e, this.now(), this.owner)),
            )
            .sort((a, b) => b.at - a.at);
    }

    /** The vendor accepted a generation: record it, owned by this process, before anything else can go wrong. */
    async accepted(key: LedgerKey, videoId: string, digest: string): Promise<void> {
        this.o.inFlight.add(videoId);
        await this.put(this.owned(key, videoId, digest));
    }

    /** Renews the lease of an entry this process works on (the waiting create does, every third of the lease). */
    async renew(key: LedgerKey, videoId: string, digest: string): Promise<void> {
        if (this.o.inFlight.has(videoId)) {
            await this.put(this.owned(key, videoId, digest));
        }
    }

    /** Renews the entry's lease until the returned function is called (timer unref'd: it never keeps a process alive). */
    hold(key: LedgerKey, videoId: string, digest: string): () => void {
        const timer = setInterval(() => void this.renew(key, videoId, digest), Math.max(10, this.leaseMs / 3));
        timer.unref?.();
        return () => clearInterval(timer);
    }

    /** A create of this process takes over an entry left by an interrupted one: owned (and leased) by this process now. */
    async claim(e: LedgerEntry): Promise<void> {
        this.o.inFlight.add(e.videoId);
        await this.put({ ...this.owned(e.key, e.videoId, e.digest), at: e.at });
    }

    /** Gives back a video claimed by this process without writing anything (a sweep that failed). */
    release(videoId: string): void {
        this.o.inFlight.delete(videoId);
    }

    /**
     * An operation shows the id to the engine (create returns it, an adoption takes it, `adoptVideoId`
     * names it): every entry of the id, under any identity and in every store, is marked handed; with
     * `record`, this resource's entry is written handed too.
     */
    async handed(videoId: string, record?: { key: LedgerKey; digest: string }): Promise<void> {
        try {
            const found = this.merge(await this.fromStores((s) => s.byId(videoId), true));
            const marks = [...found.values()].filter(
                (e) => e.state !== "handed" && !(record && sameKey(e.key, record.key)),
            );
            const at = this.now();
            const own = record
                ? [
                      {
                          key: record.key,
                          videoId,
                          digest: record.digest,
                          account: this.o.account,
                          state: "handed" as const,
                          at,
                      },
                  ]
                : [];
            await Promise.all(
                [...marks.map((e) => ({ ...e, state: "handed" as const, at })), ...own].map((e) => this.put(e)),
            );
        } finally {
            this.o.inFlight.delete(videoId);
        }
    }

    /**
     * The engine holds the video (it showed the id: diff, read, update) or it is deleted: every entry of
     * the id goes, under any identity and from every store. No I/O when no store has the id (the file
     * answers from memory).
     */
    async shown(videoId: string): Promise<void> {
        const stores = this.stores();
        await Promise.all(
            stores.map(async (store) => {
                // A store that cannot say (Redis down) is skipped quietly: a handed entry only waits to expire.
                const found = await store.byId(videoId).catch(() => []);
                try {
                    for (const e of found) {
                        await store.remove(e.key, videoId);
                    }
                } catch (e) {
                    this.warnOnce(
                        `${store.description} could not be updated (${reason(e)}); entries of videos the engine holds stay there until they expire`,
                    );
                }
            }),
        );
    }

    /** Removes this resource's entry of the video from every store (a video the vendor no longer has). */
    async remove(key: LedgerKey, videoId: string): Promise<void> {
        for (const store of this.stores()) {
            try {
                await store.remove(key, videoId);
            } catch (e) {
                this.warnOnce(
                    `${store.description} could not be updated (${reason(e)}); an entry of video ${videoId} stays until it expires`,
                );
            }
        }
    }

    private owned(key: LedgerKey, videoId: string, digest: string): LedgerEntry {
        const at = this.now();
        return {
            key,
            videoId,
            digest,
            account: this.o.account,
            state: "accepted",
            at,
            owner: this.owner,
            leaseUntil: at + this.leaseMs,
        };
    }

    /** Entries by video id and identity; a `handed` mark in either store wins (such a video may be in state). */
    private merge(found: LedgerEntry[]): Map<string, LedgerEntry> {
        const out = new Map<string, LedgerEntry>();
        for (const e of found) {
            const k = `${keyId(e.key)}\n${e.videoId}`;
            const prior = out.get(k);
            if (
                !prior ||
                (e.state === "handed" && prior.state !== "handed") ||
                (e.state === prior.state && (e.leaseUntil ?? 0) > (prior.leaseUntil ?? 0))
            ) {
                out.set(k, e);
            }
        }
        return out;
    }

    private async fromStores(read: (s: LedgerStore) => Promise<LedgerEntry[]>, quiet = false): Promise<LedgerEntry[]> {
        const all = await Promise.all(
            this.stores().map(async (store) => {
                try {
                    return await read(store);
                } catch (e) {
                    if (!quiet) {
                        this.warnOnce(`${store.description} could not be read (${reason(e)}); it is ignored for now`);
                    }
                    return [];
                }
            }),
        );
        return all.flat();
    }

    /** Written to the file always, and to Redis as well: two copies. */
    private async put(entry: LedgerEntry): Promise<void> {
        const shared = this.o.shared;
        const local = this.o.local;
        await Promise.all([
            shared
                ?.put(entry)
                .catch((e: unknown) =>
                    this.warnOnce(
                        `${shared.description} is unavailable (${reason(e)}); the ledger of accepted generations is kept in ${local.description} only for now, which other runners do not see`,
                    ),
                ),
            local
                .put(entry)
                .catch((e: unknown) =>
                    this.warnOnce(
                        `${local.description} could not be written (${reason(e)}): video ${entry.videoId} ${shared ? "is only in Redis" : "is not in the ledger, so an interrupted `pulumi up` could not adopt it"}. Check the folder's permissions or set imagine:ledgerPath`,
                    ),
                ),
        ]);
    }

    private stores(): LedgerStore[] {
        return this.o.shared ? [this.o.shared, this.o.local] : [this.o.local];
    }

    private warnOnce(message: string): void {
        if (!this.warned.has(message)) {
            this.warned.add(message);
            this.o.warn(message);
        }
    }
}

function reason(e: unknown): string {
    const err = e as NodeJS.ErrnoException;
    return err?.code ?? err?.message ?? String(e);
}
