/**
 * The file store of the ledger of accepted generations: `.imagine/ledger.jsonl` in the program folder
 * (or `imagine:ledgerPath`). Append-only JSON lines, each batch written by one write() on a file opened
 * for appending, then fsync'd: a `kill -9` can cut the process between lines, never rewrite an earlier
 * one. A line is a `put` (an entry, newer lines win) or a `remove`. The reader skips (and reports, once)
 * any line that is not a ledger line: a torn last line, a hand edit, garbage.
 * It stays fast: the entries live in memory, indexed by identity and by video id; a read replays only
 * the bytes appended since the last one (the file's inode, size and mtime say whether anything changed),
 * in slices that give the event loop back; `byId` answers from memory once the file was read. When dead
 * lines (superseded, removed, corrupt) outnumber live entries, the file compacts itself under a lock
 * file: the live entries (not expired) go to a temporary file renamed over the old one, and lines other
 * processes appended meanwhile are carried over. All I/O is asynchronous and bounded by a timeout.
 */
import { promises as fsp } from "fs";
import * as path from "path";
import { keyId, LedgerEntry, LedgerKey, LedgerStore } from "./ledger";
import { compactFile, parseLine, timed } from "./ledger-file-io";

type Line = ({ op: "put" } & LedgerEntry) | { op: "remove"; key: LedgerKey; videoId: string; at: number };

export interface FileLedgerOptions {
    /** Entries older than this many days are dropped when the file compacts (default: kept). */
    days?: number;
    /** The bound of each file operation, in ms (default 5,000). */
    ioTimeoutMs?: number;
    /** Compaction waits for at least this many dead lines (default 64). */
    minDeadLines?: number;
}

/** Lines parsed between two yields to the event loop. */
const SLICE_LINES = 2000;

export class FileLedgerStore implements LedgerStore {
    readonly description: string;
    private readonly reported = new Set<string>();
    private readonly byKey = new Map<string, Map<string, LedgerEntry>>();
    private readonly ids = new Map<string, Set<string>>();
    private live = 0;
    /** What has been read of the file: its inode, size and mtime then, the bytes and lines consumed. */
    private seen?: { ino: number; size: number; mtimeMs: number; offset: number; lines: number };
    private reading?: Promise<void>;
    private queued?: Promise<void>;
    private queue: { text: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
    private writing = false;
    private readonly timeoutMs: number;

    /** `file` is absolute; `shown` is how warnings name it (the configured path). */
    constructor(
        private readonly file: string,
        shown: string,
        private readonly warn: (message: string) => void,
        private readonly options: FileLedgerOptions = {},
    ) {
        this.description = `the ledger file ${shown}`;
        this.timeoutMs = options.ioTimeoutMs ?? 5000;
    }

    async entries(key: LedgerKey): Promise<LedgerEntry[]> {
        await this.refresh();
        return [...(this.byKey.get(keyId(key))?.values() ?? [])];
    }

    async byId(videoId: string): Promise<LedgerEntry[]> {
        if (!this.seen) {
            await this.refresh();
        }
        return [...(this.ids.get(videoId) ?? [])].flatMap((k) => this.byKey.get(k)?.get(videoId) ?? []);
    }

    /** Every live entry, of every resource and account (the CLI's `sweep`). */
    async all(): Promise<LedgerEntry[]> {
        await this.refresh();
        return [...this.byKey.values()].flatMap((entries) => [...entries.values()]);
    }

    async put(entry: LedgerEntry): Promise<void> {
        await this.append({ op: "put", ...entry });
    }

    async remove(key: LedgerKey, videoId: string): Promise<void> {
        if (!this.seen) {
            await this.refresh();
        }
        if (this.byKey.get(keyId(key))?.has(videoId)) {
            await this.append({ op: "remove", key, videoId, at: Date.now() });
        }
    }

    /** Dead lines in the file (superseded, removed, corrupt) and live entries, as last read. */
    counts(): { lines: number; live: number } {
        return { lines: this.seen?.lines ?? 0, live: this.live };
    }

    /**
     * Reads what was appended since the last read. One read at a time; a caller arriving while one runs
     * gets the next one (which sees what changed before its call), shared by every caller arriving meanwhile.
     * A missing file is an empty ledger.
     */
    private refresh(): Promise<void> {
        if (this.queued) {
            return this.queued;
        }
        const after = this.reading?.catch(() => undefined);
        const run = (after ?? Promise.resolve()).then(() => {
            this.queued = undefined;
            return this.readNew();
        });
        if (after) {
            this.queued = run;
        }
        const mine = run.finally(() => {
            if (this.reading === mine) this.reading = undefined;
        });
        this.reading = mine;
        return mine;
    }

    private async readNew(): Promise<void> {
        let st;
        try {
            st = await timed(fsp.stat(this.file), this.timeoutMs, "stat");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") {
                this.reset();
                this.seen = { ino: 0, size: 0, mtimeMs: 0, offset: 0, lines: 0 };
                return;
            }
            throw e;
        }
        if (st.isDirectory()) {
            throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
        }
        const seen = this.seen;
        if (seen && seen.ino === st.ino && seen.size === st.size && seen.mtimeMs === st.mtimeMs) {
            return;
        }
        let offset = seen?.offset ?? 0;
        let lines = seen?.lines ?? 0;
        if (!seen || seen.ino !== st.ino || st.size < seen.offset) {
            this.reset(); // a new file (compacted by another process) or a first read: from the start
            offset = 0;
            lines = 0;
        }
        const fh = await timed(fsp.open(this.file, "r"), this.timeoutMs, "open");
        try {
            const length = st.size - offset;
            const buf = Buffer.alloc(Math.max(0, length));
            let got = 0;
            while (got < length) {
                const { bytesRead } = await timed(
                    fh.read(buf, got, Math.min(1 << 20, length - got), offset + got),
                    this.timeoutMs,
                    "read",
                );
                if (bytesRead === 0) break;
                got += bytesRead;
            }
            const end = buf.lastIndexOf(0x0a, got - 1) + 1; // whole lines only; a torn tail waits
            const text = buf.toString("utf8", 0, end).split("\n");
            text.pop();
            for (let i = 0; i < text.length; i++) {
                if (i > 0 && i % SLICE_LINES === 0) {
                    await new Promise<void>((r) => setImmediate(r));
                }
                if (text[i].trim() !== "") {
                    this.take(text[i], lines + i + 1, false);
                }
            }
            lines += text.length;
            if (end < got && buf.toString("utf8", end, got).trim() !== "") {
                this.take(buf.toString("utf8", end, got), lines + 1, true);
            }
            this.seen = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, offset: offset + end, lines };
        } finally {
            await fh.close();
        }
    }

    /** Applies one line read from the file; reports one that is not a ledger line. */
    private take(raw: string, lineNo: number, torn: boolean): void {
        const line = parseLine(raw);
        if (line && !torn) {
            this.apply(line as Line);
            return;
        }
        if (!line) {
            const note = `${this.description}: line ${lineNo} is not a ledger entry (${torn ? "cut short, as by a crash mid-write" : "corrupt"}); it is skipped`;
            if (!this.reported.has(note)) {
                this.reported.add(note);
                this.warn(note);
            }
        }
    }

    private apply(line: Line): void {
        const k = keyId(line.key);
        let entries = this.byKey.get(k);
        if (line.op === "put") {
            const { op: _op, ...entry } = line;
            if (!entries) this.byKey.set(k, (entries = new Map<string, LedgerEntry>()));
            if (!entries.has(entry.videoId)) this.live++;
            entries.set(entry.videoId, entry);
            let keys = this.ids.get(entry.videoId);
            if (!keys) this.ids.set(entry.videoId, (keys = new Set()));
            keys.add(k);
        } else if (entries?.delete(line.videoId)) {
            this.live--;
            if (entries.size === 0) this.byKey.delete(k);
            const keys = this.ids.get(line.videoId);
            keys?.delete(k);
            if (keys?.size === 0) this.ids.delete(line.videoId);
        }
    }

    private reset(): void {
        this.byKey.clear();
        this.ids.clear();
        this.live = 0;
        this.seen = undefined;
    }

    /**
     * Appends a line; lines asked for while a write runs go together in the next write. Applied in memory
     * at once (the next read of the file applies it again, in the file's order).
     */
    private append(line: Line): Promise<void> {
        const done = new Promise<void>((resolve, reject) =>
            this.queue.push({ text: JSON.stringify(line) + "\n", resolve, reject }),
        );
        if (this.seen) {
            this.apply(line);
        }
        if (!this.writing) {
            void this.drain();
        }
        return done;
    }

    private async drain(): Promise<void> {
        this.writing = true;
        try {
            while (this.queue.length > 0) {
                while (this.queue.length > 0) {
                    const batch = this.queue.splice(0);
                    try {
                        await this.write(batch.map((b) => b.text).join(""));
                        batch.forEach((b) => b.resolve());
                    } catch (e) {
                        batch.forEach((b) => b.reject(e));
                    }
                }
                await this.compactIfDue(); // lines asked for meanwhile: the next round
            }
        } finally {
            this.writing = false;
        }
    }

    /** One write of whole lines at the end of the file, fsync'd; a torn last line is closed off first. */
    private async write(text: string): Promise<void> {
        await timed(fsp.mkdir(path.dirname(this.file), { recursive: true }), this.timeoutMs, "mkdir");
        for (let attempt = 0; attempt < 3; attempt++) {
            const fh = await timed(fsp.open(this.file, "a+"), this.timeoutMs, "open");
            let ino: number;
            try {
                const st = await timed(fh.stat(), this.timeoutMs, "stat");
                ino = st.ino;
                let prefix = "";
                if (st.size > 0) {
                    const last = Buffer.alloc(1);
                    await timed(fh.read(last, 0, 1, st.size - 1), this.timeoutMs, "read");
                    prefix = last[0] === 0x0a ? "" : "\n";
                }
                const bytes = Buffer.from(prefix + text);
                const { bytesWritten } = await timed(fh.write(bytes), this.timeoutMs, "write");
                if (bytesWritten !== bytes.length) {
                    throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
                }
                await timed(fh.sync(), this.timeoutMs, "fsync");
            } finally {
                await fh.close();
            }
            // A compaction elsewhere may have renamed a new file over the one written: write again there.
            const now = await timed(fsp.stat(this.file), this.timeoutMs, "stat").catch(() => undefined);
            if (!now || now.ino === ino) {
                return;
            }
        }
    }

    /** Compacts when dead lines outnumber live entries (after a read of everything appended). */
    private async compactIfDue(): Promise<void> {
        try {
            await this.refresh();
            const { lines, live } = this.counts();
            const dead = lines - live;
            if (dead <= live || dead < (this.options.minDeadLines ?? 64)) {
                return;
            }
            const oldest = this.options.days === undefined ? -Infinity : Date.now() - this.options.days * 86_400_000;
            const keep = [...this.byKey.values()].flatMap((m) => [...m.values()]).filter((e) => e.at >= oldest);
            const readUpTo = this.seen?.offset ?? 0;
            const done = await compactFile(this.file, keep, readUpTo, this.timeoutMs);
            if (done) {
                // Memory holds what the new file starts with; the next read applies what follows (carried over).
                this.reset();
                keep.forEach((e) => this.apply({ op: "put", ...e }));
                this.seen = { ino: done.ino, size: -1, mtimeMs: 0, offset: done.bytes, lines: keep.length };
            }
        } catch (e) {
            this.warn(
                `${this.description} could not be compacted (${(e as NodeJS.ErrnoException)?.code ?? String(e)}); it is tried again later`,
            );
        }
    }
}
