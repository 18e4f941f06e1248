/**
 * The emulator's state in SQLite (WAL, synchronous=FULL): videos, credits used per key, the HMAC secret
 * and the clock anchor. Keys are stored only as SHA-256 hashes.
 */
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { ClockAnchor } from "./clock";

export type Variation = "text_to_video" | "image_to_video";
export type Outcome = "finished" | "failed";

export interface VideoRow {
    seq: number;
    id: string;
    owner: string;
    variation: Variation;
    prompt: string;
    style: string;
    aspectRatio: string | null;
    extra: Record<string, string>;
    imageFile: string | null;
    createdMs: number;
    dueMs: number;
    outcome: Outcome;
    failMessage: string | null;
    filesReady: boolean;
    bytes: number;
}

export type NewVideo = Omit<VideoRow, "seq" | "filesReady">;

interface RawRow {
    seq: number;
    id: string;
    owner: string;
    variation: Variation;
    prompt: string;
    style: string;
    aspect_ratio: string | null;
    extra: string;
    image_file: string | null;
    created_ms: number;
    due_ms: number;
    outcome: Outcome;
    fail_message: string | null;
    files_ready: number;
    bytes: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS videos (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  variation TEXT NOT NULL,
  prompt TEXT NOT NULL,
  style TEXT NOT NULL,
  aspect_ratio TEXT,
  extra TEXT NOT NULL,
  image_file TEXT,
  created_ms REAL NOT NULL,
  due_ms REAL NOT NULL,
  outcome TEXT NOT NULL,
  fail_message TEXT,
  files_ready INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS videos_pending ON videos (files_ready, due_ms);
CREATE TABLE IF NOT EXISTS credits (owner TEXT PRIMARY KEY, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS delete_requests (id TEXT PRIMARY KEY, requests INTEGER NOT NULL, due_ms REAL);
`;

function fromRaw(r: RawRow): VideoRow {
    return {
        seq: r.seq,
        id: r.id,
        owner: r.owner,
        variation: r.variation,
        prompt: r.prompt,
        style: r.style,
        aspectRatio: r.aspect_ratio,
        extra: JSON.parse(r.extra) as Record<string, string>,
        imageFile: r.image_file,
        createdMs: r.created_ms,
        dueMs: r.due_ms,
        outcome: r.outcome,
        failMessage: r.fail_message,
        filesReady: r.files_ready === 1,
        bytes: r.bytes,
    };
}

export class Store {
    private readonly db: Database.Database;

    constructor(dataDir: string) {
        this.db = new Database(path.join(dataDir, "emulator.db"), { timeout: 5000 });
        this.db.pragma("journal_mode = WAL");
        this.db.pragma("synchronous = FULL");
        this.db.exec(SCHEMA);
    }

    close(): void {
        if (this.db.open) this.db.close();
    }

    private getMeta(key: string): string | undefined {
        const row = this.db.prepare<[string]>("SELECT value FROM meta WHERE key = ?").get(key) as
            { value: string } | undefined;
        return row?.value;
    }

    private setMeta(key: string, value: string): void {
        this.db
            .prepare<[string, string]>(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )
            .run(key, value);
    }

    /** The HMAC secret for file URLs, created once per data folder. */
    signingSecret(): Buffer {
        const existing = this.getMeta("signing_secret");
        if (existing) return Buffer.from(existing, "hex");
        const secret = randomBytes(32);
        this.db
            .prepare<[string]>("INSERT OR IGNORE INTO meta (key, value) VALUES ('signing_secret', ?)")
            .run(secret.toString("hex"));
        return Buffer.from(this.getMeta("signing_secret") as string, "hex");
    }

    clockAnchor(): ClockAnchor | undefined {
        const text = this.getMeta("clock_anchor");
        return text ? (JSON.parse(text) as ClockAnchor) : undefined;
    }

    saveClockAnchor(anchor: ClockAnchor): void {
        this.setMeta("clock_anchor", JSON.stringify(anchor));
    }

    creditsUsed(owner: string): number {
        const row = this.db.prepare<[string]>("SELECT used FROM credits WHERE owner = ?").get(owner) as
            { used: number } | undefined;
        return row?.used ?? 0;
    }

    /** Charges one credit and inserts the video in one transaction; returns false (nothing written) if out of credits. */
    readonly insertCharged = (video: NewVideo, credits: number): boolean =>
        this.db.transaction((v: NewVideo, limit: number): boolean => {
            if (this.creditsUsed(v.owner) >= limit) return false;
            this.db
                .prepare<[string]>(
                    "INSERT INTO credits (owner, used) VALUES (?, 1) ON CONFLICT(owner) DO UPDATE SET used = used + 1",
                )
                .run(v.owner);
            this.db
                .prepare<unknown[]>(
                    `INSERT INTO videos (id, owner, variation, prompt, style, aspect_ratio, extra, image_file, created_ms, due_ms,
             outcome, fail_message, files_ready, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
                )
                .run(
                    v.id,
                    v.owner,
                    v.variation,
                    v.prompt,
                    v.style,
                    v.aspectRatio,
                    JSON.stringify(v.extra),
                    v.imageFile,
                    v.createdMs,
                    v.dueMs,
                    v.outcome,
                    v.failMessage,
                    v.bytes,
                );
            return true;
        })(video, credits);

    get(id: string): VideoRow | undefined {
        const raw = this.db.prepare<[string]>("SELECT * FROM videos WHERE id = ?").get(id) as RawRow | undefined;
        return raw ? fromRaw(raw) : undefined;
    }

    /** Finished videos whose due time has passed but whose output files are not written yet. */
    dueWithoutFiles(nowMs: number): VideoRow[] {
        const rows = this.db
            .prepare<[number]>(
                "SELECT * FROM videos WHERE files_ready = 0 AND outcome = 'finished' AND due_ms <= ? ORDER BY due_ms LIMIT 100",
            )
            .all(nowMs) as RawRow[];
        return rows.map(fromRaw);
    }

    /** The earliest due time of a finished video still waiting for its files, if any. */
    nextDue(): number | undefined {
        const row = this.db
            .prepare("SELECT MIN(due_ms) AS due FROM videos WHERE files_ready = 0 AND outcome = 'finished'")
            .get() as { due: number | null };
        return row.due ?? undefined;
    }

    markFilesReady(id: string, bytes: number): void {
        this.db.prepare<[number, string]>("UPDATE videos SET files_ready = 1, bytes = ? WHERE id = ?").run(bytes, id);
    }

    delete(id: string): boolean {
        this.db.prepare<[string]>("DELETE FROM delete_requests WHERE id = ?").run(id);
        return this.db.prepare<[string]>("DELETE FROM videos WHERE id = ?").run(id).changes > 0;
    }

    /** Counts one more accepted delete request of a video; returns how many it has had. */
    countDeleteRequest(id: string): number {
        const row = this.db
            .prepare<[string]>(
                "INSERT INTO delete_requests (id, requests) VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET requests = requests + 1 RETURNING requests",
            )
            .get(id) as { requests: number };
        return row.requests;
    }

    /** Plans a video's removal at `dueMs` (emulated); an earlier plan is kept. */
    scheduleDelete(id: string, dueMs: number): void {
        this.db
            .prepare<[{ due: number; id: string }]>(
                "UPDATE delete_requests SET due_ms = CASE WHEN due_ms IS NULL OR due_ms > @due THEN @due ELSE due_ms END WHERE id = @id",
            )
            .run({ due: dueMs, id });
    }

    /** Videos whose planned removal time has passed. */
    dueDeletes(nowMs: number): string[] {
        const rows = this.db
            .prepare<[number]>("SELECT id FROM delete_requests WHERE due_ms IS NOT NULL AND due_ms <= ?")
            .all(nowMs) as { id: string }[];
        return rows.map((r) => r.id);
    }

    allIds(): Set<string> {
        const rows = this.db.prepare("SELECT id FROM videos").all() as { id: string }[];
        return new Set(rows.map((r) => r.id));
    }

    totals(): { videos: number; bytes: number } {
        const row = this.db
            .prepare("SELECT COUNT(*) AS videos, COALESCE(SUM(bytes), 0) AS bytes FROM videos")
            .get() as { videos: number; bytes: number };
        return row;
    }
}
