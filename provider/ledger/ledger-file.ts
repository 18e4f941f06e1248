/**
 * The file store of the ledger of accepted generations: `.imagine/ledger.jsonl` in the program folder
 * (or `imagine:ledgerPath`). Append-only JSON lines, each written whole by one write() on a file opened
 * for appending, then fsync'd: a `kill -9` can cut the process between lines, never rewrite an earlier
 * one. All I/O is asynchronous (the fsync runs off the event loop): a hundred creates recording at once
 * must not hold up the answers of each other's requests. A line is a `put` (an entry, newer lines win) or a `remove`. The reader replays the lines and
 * skips (and reports, once) any that is not a ledger line: a torn last line, a hand edit, garbage.
 */
import { promises as fsp } from "fs";
import * as path from "path";
import { LedgerEntry, LedgerKey, LedgerStore, sameKey } from "./ledger";

type Line = ({ op: "put" } & LedgerEntry) | { op: "remove"; key: LedgerKey; videoId: string; at: number };

export class FileLedgerStore implements LedgerStore {
    readonly description: string;
    private readonly reported = new Set<string>();

    /** `file` is absolute; `shown` is how warnings name it (the configured path). */
    constructor(
        private readonly file: string,
        shown: string,
        private readonly warn: (message: string) => void,
    ) {
        this.description = `the ledger file ${shown}`;
    }

    async entries(key: LedgerKey): Promise<LedgerEntry[]> {
        return [...(await this.replay()).values()].filter((e) => sameKey(e.key, key));
    }

    /** Every live entry, of every resource and account (the CLI's `sweep`). */
    async all(): Promise<LedgerEntry[]> {
        return [...(await this.replay()).values()];
    }

    async put(entry: LedgerEntry): Promise<void> {
        await this.append({ op: "put", ...entry });
    }

    async remove(key: LedgerKey, videoId: string): Promise<void> {
        const live = (await this.replay()).get(videoId);
        if (live && sameKey(live.key, key)) {
            await this.append({ op: "remove", key, videoId, at: Date.now() });
        }
    }

    /** The live entries by video id, from the lines in order. A missing file is an empty ledger. */
    private async replay(): Promise<Map<string, LedgerEntry>> {
        let text: string;
        try {
            text = await fsp.readFile(this.file, "utf8");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") {
                return new Map();
            }
            throw e;
        }
        const live = new Map<string, LedgerEntry>();
        const lines = text.split("\n");
        lines.forEach((raw, i) => {
            if (raw.trim() === "") {
                return;
            }
            const line = parseLine(raw);
            if (!line) {
                const torn = i === lines.length - 1;
                const note = `${this.description}: line ${i + 1} is not a ledger entry (${torn ? "cut short, as by a crash mid-write" : "corrupt"}); it is skipped`;
                if (!this.reported.has(note)) {
                    this.reported.add(note);
                    this.warn(note);
                }
                return;
            }
            if (line.op === "put") {
                const { op: _op, ...entry } = line;
                live.set(entry.videoId, entry);
            } else {
                live.delete(line.videoId);
            }
        });
        return live;
    }

    /** One line, one write, on a file opened for appending; a torn last line is closed off first. */
    private async append(line: Line): Promise<void> {
        await fsp.mkdir(path.dirname(this.file), { recursive: true });
        const fh = await fsp.open(this.file, "a+");
        try {
            const { size } = await fh.stat();
            let prefix = "";
            if (size > 0) {
                const last = Buffer.alloc(1);
                await fh.read(last, 0, 1, size - 1);
                prefix = last[0] === 0x0a ? "" : "\n";
            }
            const bytes = Buffer.from(`${prefix}${JSON.stringify(line)}\n`);
            const { bytesWritten } = await fh.write(bytes);
            if (bytesWritten !== bytes.length) {
                throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
            }
            await fh.sync();
        } finally {
            await fh.close();
        }
    }
}

function parseLine(raw: string): Line | undefined {
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
    const keyOk =
        typeof key === "object" &&
        key !== null &&
        typeof key.project === "string" &&
        typeof key.stack === "string" &&
        typeof key.name === "string";
    if (!keyOk || typeof l.videoId !== "string" || typeof l.at !== "number") {
        return undefined;
    }
    if (l.op === "remove") {
        return l as unknown as Line;
    }
    if (
        l.op === "put" &&
        typeof l.digest === "string" &&
        typeof l.account === "string" &&
        (l.state === "accepted" || l.state === "handed")
    ) {
        return l as unknown as Line;
    }
    return undefined;
}
