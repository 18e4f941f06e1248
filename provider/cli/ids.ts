/**
 * Video ids from arguments, a file or stdin: every line checked before anything is sent, duplicates
 * removed, and never all in memory at once. One read of the source (stdin cannot be read twice):
 * ids go into a Set until it holds `memoryIds`; beyond that, every id spills to one of 64 temporary
 * bucket files chosen by a hash of the id (a duplicate always lands in its original's bucket). Once the
 * source is read and valid, each bucket in turn is deduplicated in a Set (about 1/64 of the ids) and
 * appended to one file of unique ids, which the command then streams. Memory: `memoryIds` ids, or one
 * bucket; disk: about twice the ids' size, removed by `dispose`. Order: the source's, for inputs that
 * fit in memory; bucket by bucket (first occurrence kept within each) beyond.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { Readable } from "node:stream";
import { describeId, VIDEO_ID } from "../inputs/inputs";

/** Ids kept in memory before spilling to bucket files (well under 1 MB of uuids; a privacy request keeps its order). */
export const MEMORY_IDS = 5_000;
const BUCKETS = 64;
/** Bytes buffered per bucket before an append. */
const FLUSH_BYTES = 64 * 1024;
/** Malformed lines named in the error; the rest are counted. */
const NAMED_ERRORS = 10;

/** Where ids come from: each line (`where` says e.g. "ids.txt line 4"). */
export interface IdSource {
    lines: AsyncIterable<string> | Iterable<string>;
    where: (lineNumber: number) => string;
}

export interface CollectedIds {
    /** Non-blank, non-comment lines read. */
    read: number;
    unique: number;
    duplicates: number;
    /** The unique ids, once each; can be iterated once. */
    ids(): AsyncIterable<string>;
    /** Whether the ids spilled to disk. */
    spilled: boolean;
    /** Removes temporary files. */
    dispose(): void;
}

/** Malformed lines: nothing may be sent. */
export class MalformedIdsError extends Error {
    constructor(
        readonly problems: string[],
        readonly count: number,
    ) {
        super(
            `${count} malformed id${count === 1 ? "" : "s"}; nothing was deleted:\n  ` +
                problems.join("\n  ") +
                (count > problems.length ? `\n  ... and ${count - problems.length} more` : ""),
        );
    }
}

/** Why `text` is not a video id, without repeating it (a line may hold anything); undefined when valid. */
export function idProblem(text: string): string | undefined {
    return VIDEO_ID.test(text) ? undefined : describeId(text);
}

/** The lines of a file, or of stdin for "-". */
export function fileSource(file: string, cwd: string, stdin: Readable): IdSource {
    const name = file === "-" ? "stdin" : file;
    const input = file === "-" ? stdin : fs.createReadStream(path.resolve(cwd, file));
    return { lines: readline.createInterface({ input, crlfDelay: Infinity }), where: (n) => `${name} line ${n}` };
}

export function argSource(ids: string[]): IdSource {
    return { lines: ids, where: (n) => `argument ${n}` };
}

/** Reads, checks and deduplicates the ids; throws MalformedIdsError naming the bad lines. */
export async function collectIds(source: IdSource, memoryIds = MEMORY_IDS): Promise<CollectedIds> {
    let memory: Set<string> | undefined = new Set<string>();
    let spill: Spill | undefined;
    const problems: string[] = [];
    let bad = 0;
    let read = 0;
    let n = 0;
    try {
        for await (const raw of source.lines) {
            n++;
            const line = raw.trim();
            if (line === "" || line.startsWith("#")) continue;
            read++;
            const problem = idProblem(line);
            if (problem !== undefined) {
                bad++;
                if (problems.length < NAMED_ERRORS) problems.push(`${source.where(n)}: not a video id (${problem})`);
                continue;
            }
            if (bad > 0) continue; // nothing will be sent: only the check goes on
            if (memory) {
                memory.add(line);
                if (memory.size > memoryIds) {
                    spill = new Spill();
                    for (const id of memory) spill.add(id);
                    memory = undefined;
                }
            } else {
                spill!.add(line);
            }
        }
    } catch (e) {
        spill?.dispose();
        throw e;
    }
    if (bad > 0) {
        spill?.dispose();
        throw new MalformedIdsError(problems, bad);
    }
    if (memory) {
        const ids = memory;
        return {
            read,
            unique: ids.size,
            duplicates: read - ids.size,
            spilled: false,
            ids: async function* () {
                yield* ids;
            },
            dispose: () => undefined,
        };
    }
    const unique = spill!.dedupe();
    return {
        read,
        unique,
        duplicates: read - unique,
        spilled: true,
        ids: () => spill!.uniqueIds(),
        dispose: () => spill!.dispose(),
    };
}

/** The bucket files of ids beyond memory, then the file of unique ids. */
class Spill {
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-video-ids-"));
    private readonly buffers: string[][] = Array.from({ length: BUCKETS }, () => []);
    private readonly sizes = new Array<number>(BUCKETS).fill(0);
    private readonly uniqueFile = path.join(this.dir, "unique");

    add(id: string): void {
        const b = bucketOf(id);
        this.buffers[b].push(id);
        this.sizes[b] += id.length + 1;
        if (this.sizes[b] >= FLUSH_BYTES) this.flush(b);
    }

    private bucketFile(b: number): string {
        return path.join(this.dir, `bucket-${b}`);
    }

    private flush(b: number): void {
        if (this.buffers[b].length === 0) return;
        fs.appendFileSync(this.bucketFile(b), this.buffers[b].join("\n") + "\n");
        this.buffers[b] = [];
        this.sizes[b] = 0;
    }

    /** Each bucket deduplicated in turn into the unique file; resolves the count. */
    dedupe(): number {
        let count = 0;
        fs.writeFileSync(this.uniqueFile, "");
        for (let b = 0; b < BUCKETS; b++) {
            this.flush(b);
            const file = this.bucketFile(b);
            if (!fs.existsSync(file)) continue;
            const ids = new Set(fs.readFileSync(file, "utf8").split("\n"));
            ids.delete("");
            fs.rmSync(file);
            let chunk: string[] = [];
            for (const id of ids) {
                chunk.push(id);
                if (chunk.length >= 10_000) {
                    fs.appendFileSync(this.uniqueFile, chunk.join("\n") + "\n");
                    chunk = [];
                }
            }
            if (chunk.length) fs.appendFileSync(this.uniqueFile, chunk.join("\n") + "\n");
            count += ids.size;
        }
        return count;
    }

    async *uniqueIds(): AsyncIterable<string> {
        const rl = readline.createInterface({ input: fs.createReadStream(this.uniqueFile), crlfDelay: Infinity });
        for await (const line of rl) {
            if (line !== "") yield line;
        }
    }

    dispose(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** FNV-1a of the id, to a bucket. */
function bucketOf(id: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) {
        h ^= id.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % BUCKETS;
}
