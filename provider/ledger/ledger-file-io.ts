/**
 * What the file ledger does to its file besides appending: reading one line back (validated), bounding
 * each file operation with a timeout, and compacting (live entries to a temporary file renamed over the
 * old one, under a lock file, lines appended meanwhile carried over).
 */
import { randomBytes } from "crypto";
import { promises as fsp } from "fs";
import { LedgerEntry } from "./ledger";

/** A lock file older than this is left by a process that died while compacting: it is taken over. */
const STALE_LOCK_MS = 30_000;

/** `p`, or an ETIMEDOUT error when it takes longer than `ms` (the operation itself may still finish). */
export function timed<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
            () => reject(Object.assign(new Error(`${what} took over ${ms} ms`), { code: "ETIMEDOUT" })),
            ms,
        );
        timer.unref?.();
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A ledger line (`put` or `remove`), or undefined when the text is not one. */
export function parseLine(raw: string): Record<string, unknown> | undefined {
    let v: unknown;
    try {
        v = JSON.parse(raw);
    } catch {
        return undefined;
    }
    if (typeof v !== "object" || v === null) {
        return undefined;
    }
    const l = v as Record<string, unknown>;
    const key = l.key as Record<string, unknown> | undefined;
    const optional = (x: unknown) => x === undefined || typeof x === "string";
    const keyOk =
        typeof key === "object" &&
        key !== null &&
        typeof key.project === "string" &&
        typeof key.stack === "string" &&
        typeof key.name === "string" &&
        optional(key.organization) &&
        optional(key.parent);
    if (!keyOk || typeof l.videoId !== "string" || typeof l.at !== "number") {
        return undefined;
    }
    if (l.op === "remove") {
        return l;
    }
    if (
        l.op === "put" &&
        typeof l.digest === "string" &&
        typeof l.account === "string" &&
        (l.state === "accepted" || l.state === "handed") &&
        optional(l.owner) &&
        (l.leaseUntil === undefined || typeof l.leaseUntil === "number")
    ) {
        return l;
    }
    return undefined;
}

/**
 * Rewrites `file` with `keep` (as `put` lines) under `file.lock`; resolves undefined when another
 * process holds the lock (it compacts). Bytes appended after `readUpTo` (by other processes, before the
 * rename) are carried over to the new file. Resolves the new file's inode and the bytes of `keep`.
 */
export async function compactFile(
    file: string,
    keep: LedgerEntry[],
    readUpTo: number,
    ms: number,
): Promise<{ ino: number; bytes: number } | undefined> {
    const lock = `${file}.lock`;
    if (!(await takeLock(lock, ms))) {
        return undefined;
    }
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    let old: fsp.FileHandle | undefined;
    try {
        old = await timed(fsp.open(file, "r"), ms, "open");
        if ((await timed(old.stat(), ms, "stat")).size < readUpTo) {
            return undefined; // replaced since it was read: the next read starts over
        }
        const out = await timed(fsp.open(tmp, "w", 0o644), ms, "open");
        const text = Buffer.from(keep.map((e) => JSON.stringify({ op: "put", ...e }) + "\n").join(""));
        let ino: number;
        try {
            await timed(out.write(text), ms, "write");
            await timed(out.sync(), ms, "fsync");
            ino = (await timed(out.stat(), ms, "stat")).ino;
        } finally {
            await out.close();
        }
        await timed(fsp.rename(tmp, file), ms, "rename");
        // Lines other processes appended to the old file after it was read: carried over.
        const size = (await timed(old.stat(), ms, "stat")).size;
        if (size > readUpTo) {
            const tail = Buffer.alloc(size - readUpTo);
            await timed(old.read(tail, 0, tail.length, readUpTo), ms, "read");
            const fh = await timed(fsp.open(file, "a"), ms, "open");
            try {
                await timed(fh.write(tail), ms, "write");
                await timed(fh.sync(), ms, "fsync");
            } finally {
                await fh.close();
            }
        }
        return { ino, bytes: text.length };
    } finally {
        await old?.close();
        await fsp.rm(tmp, { force: true }).catch(() => undefined);
        await fsp.rm(lock, { force: true }).catch(() => undefined);
    }
}

/** Creates the lock file; takes over one left by a process that died; false when another holds it. */
async function takeLock(lock: string, ms: number): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            const fh = await timed(fsp.open(lock, "wx"), ms, "open");
            await fh.write(`${process.pid}\n`);
            await fh.close();
            return true;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
                throw e;
            }
            const st = await fsp.stat(lock).catch(() => undefined);
            if (st && Date.now() - st.mtimeMs < STALE_LOCK_MS) {
                return false;
            }
            await fsp.rm(lock, { force: true });
        }
    }
    return false;
}
