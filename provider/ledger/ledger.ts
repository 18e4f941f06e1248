/**
 * The ledger of accepted generations: the moment the vendor accepts a generation, its id is recorded
 * under the resource's identity (project, stack, resource name) and a digest of the inputs that define
 * the video, so a `pulumi up` killed while it waited can be followed by one that adopts the video instead
 * of paying for a second one and leaking the first. Entries live in Redis when `imagine:redisUrl` is set
 * (shared by every runner), else, or while Redis is down, in a local JSON-lines file. The ledger never
 * fails an operation: a store that cannot be read or written is reported (warning) and skipped.
 * It holds no token and no URL: ids, identities, digests, an account fingerprint and times.
 */
import { createHash } from "crypto";

/** The resource a ledger entry belongs to (the `identity` input of a Video). */
export interface LedgerKey {
    project: string;
    stack: string;
    name: string;
}

/**
 * `accepted`: the vendor accepted the generation and `create` has not returned it yet (running, or
 * killed): adoptable. `handed`: `create` returned the id to the engine, which may still have died before
 * recording it: kept for the record until the engine shows the id back (diff, read, update, delete) or
 * the entry expires, but never adopted (the video may be in state, e.g. the one a `--replace` replaces).
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
}

/** Where entries are kept: the Redis store or the file store. Methods may throw; the Ledger catches. */
export interface LedgerStore {
    /** For warnings, e.g. "the ledger file .imagine/ledger.jsonl". Never a URL. */
    readonly description: string;
    /** Every entry of the key (expired ones included; the Ledger filters them). */
    entries(key: LedgerKey): Promise<LedgerEntry[]>;
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
    const ok = (x: unknown) => typeof x === "string" && x !== "";
    return ok(v.project) && ok(v.stack) && ok(v.name)
        ? { project: v.project as string, stack: v.stack as string, name: v.name as string }
        : undefined;
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

/** Same key (resource identity). */
export function sameKey(a: LedgerKey, b: LedgerKey): boolean {
    return a.project === b.project && a.stack === b.stack && a.name === b.name;
}

export interface LedgerOptions {
    /** Redis, when `imagine:redisUrl` is set. */
    shared?: LedgerStore;
    /** The file: the store without Redis, and the fallback while Redis is down. */
    local: LedgerStore;
    account: string;
    /** `imagine:ledgerDays`, in days: older entries are ignored. */
    days: number;
    /** Wall-clock ms (entries are compared across processes and machines); default Date.now. */
    now?: () => number;
    warn: (message: string) => void;
    /** Video ids a create of this process is working on: never adopted, swept or removed by another create. */
    inFlight: Set<string>;
}

/** The ledger as operations use it: every method resolves, whatever the stores do. */
export class Ledger {
    private readonly warned = new Set<string>();

    constructor(private readonly o: LedgerOptions) {}

    private now(): number {
        return (this.o.now ?? Date.now)();
    }

    /** Live entries of this resource for this account, the newest first (ids a create of this process holds left out). */
    async find(key: LedgerKey): Promise<LedgerEntry[]> {
        const byId = new Map<string, LedgerEntry>();
        for (const store of this.stores()) {
            let found: LedgerEntry[];
            try {
                found = await store.entries(key);
            } catch (e) {
                this.warnOnce(`${store.description} could not be read (${reason(e)}); it is ignored for now`);
                continue;
            }
            for (const e of found) {
                const prior = byId.get(e.videoId);
                // A `handed` mark in either store wins: such a video may be in state and is never adopted.
                if (!prior || (e.state === "handed" && prior.state !== "handed")) {
                    byId.set(e.videoId, e);
                }
            }
        }
        const oldest = this.now() - this.o.days * 86_400_000;
        return [...byId.values()]
            .filter(
                (e) =>
                    e.account === this.o.account &&
                    e.at >= oldest &&
                    sameKey(e.key, key) &&
                    !this.o.inFlight.has(e.videoId),
            )
            .sort((a, b) => b.at - a.at);
    }

    /** The vendor accepted a generation: record it before anything else can go wrong. */
    async accepted(key: LedgerKey, videoId: string, digest: string): Promise<void> {
        this.o.inFlight.add(videoId);
        await this.put({ key, videoId, digest, account: this.o.account, state: "accepted", at: this.now() });
    }

    /** A create of this process took over an entry left by an interrupted one. */
    claim(videoId: string): void {
        this.o.inFlight.add(videoId);
    }

    /** Gives back a video claimed by this process without writing anything (a sweep that failed). */
    release(videoId: string): void {
        this.o.inFlight.delete(videoId);
    }

    /** `create` is handing the id to the engine (as its result or a partial failure). */
    async handed(key: LedgerKey, videoId: string, digest: string): Promise<void> {
        try {
            await this.put({ key, videoId, digest, account: this.o.account, state: "handed", at: this.now() });
        } finally {
            this.o.inFlight.delete(videoId);
        }
    }

    /** The video is in state (the engine showed its id) or deleted: its entry goes, from every store. */
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

    private async put(entry: LedgerEntry): Promise<void> {
        if (this.o.shared) {
            try {
                await this.o.shared.put(entry);
                return;
            } catch (e) {
                this.warnOnce(
                    `${this.o.shared.description} is unavailable (${reason(e)}); the ledger of accepted generations falls back to ${this.o.local.description}, which other runners do not see`,
                );
            }
        }
        try {
            await this.o.local.put(entry);
        } catch (e) {
            this.warnOnce(
                `${this.o.local.description} could not be written (${reason(e)}): video ${entry.videoId} is not in the ledger, so an interrupted \`pulumi up\` could not adopt it. Check the folder's permissions or set imagine:ledgerPath`,
            );
        }
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
