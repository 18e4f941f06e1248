/** Reading the vendor's status payload, in both documented shapes, into one normalized form. */

export type VideoState = "processing" | "finished" | "failed";

export interface VideoStatus {
    state: VideoState;
    /** The vendor's own status word, when it sent one. */
    vendorStatus?: string;
    videoUrl?: string;
    thumbnailUrl?: string;
    createdAt?: string;
    /** The vendor's reason, for a failed video. */
    message?: string;
}

const RUNNING = new Set(["pending", "processing", "queued", "in_progress", "running", "starting"]);
const DONE = new Set(["finished", "completed", "complete", "success", "succeeded", "done"]);
const FAILED = new Set(["failed", "error", "failure", "cancelled", "canceled"]);

/** Legacy-shape `video.code` values that mean the job failed (the shape has no status word). */
const LEGACY_FAILED_CODES = new Set([3]);

/**
 * Normalizes `{"status":"success","video":{...}}` in either documented shape:
 * - `video.status` word with `url.generation` a string, or
 * - no `video.status`, `video.code`, and `url.generation` an array.
 * Throws when the payload has no `video` object at all.
 */
export function parseStatusPayload(body: unknown): VideoStatus {
    const video = field(body, "video");
    if (typeof video !== "object" || video === null) {
        throw new Error("the status answer has no `video` object");
    }
    const url = field(video, "url");
    const videoUrl = firstString(field(url, "generation"));
    const thumbnailUrl = firstString(field(url, "thumbnail"));
    const createdAt = stringOrUndefined(field(video, "created_at"));
    const message = stringOrUndefined(field(video, "message")) ?? stringOrUndefined(field(video, "error"));
    const word = stringOrUndefined(field(video, "status"))?.toLowerCase();

    let state: VideoState;
    if (word !== undefined && (RUNNING.has(word) || DONE.has(word) || FAILED.has(word))) {
        state = DONE.has(word) ? "finished" : FAILED.has(word) ? "failed" : "processing";
    } else if (videoUrl) {
        state = "finished";
    } else if (LEGACY_FAILED_CODES.has(Number(field(video, "code"))) || message !== undefined) {
        state = "failed";
    } else {
        state = "processing";
    }
    return { state, vendorStatus: word, videoUrl, thumbnailUrl, createdAt, message };
}

function field(obj: unknown, key: string): unknown {
    return typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function stringOrUndefined(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

function firstString(v: unknown): string | undefined {
    return Array.isArray(v) ? stringOrUndefined(v.find((x) => typeof x === "string" && x !== "")) : stringOrUndefined(v);
}
