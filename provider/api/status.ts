/** Reading the vendor's status payload, in both documented shapes, into one normalized form. */

/** `expired`: the generation finished, and its files have aged out (not a failure: nothing replaces it). */
export type VideoState = "processing" | "finished" | "expired" | "failed";

export interface VideoStatus {
    state: VideoState;
    /** The vendor's own status word, when it sent one. */
    vendorStatus?: string;
    videoUrl?: string;
    thumbnailUrl?: string;
    createdAt?: string;
    /** The vendor's reason, for a failed video (or its notice, for a running one). */
    message?: string;
    /** What a progress line says about a running video, e.g. `processing`, or an unknown word marked as such. */
    progress: string;
    /** The vendor's word when this provider does not know it (the state then only says "not decided by the word"). */
    unknownWord?: string;
}

const RUNNING = new Set([
    "pending",
    "processing",
    "queued",
    "in_progress",
    "in-progress",
    "running",
    "starting",
    "started",
    "waiting",
    "generating",
    "created",
    "submitted",
]);
const DONE = new Set(["finished", "completed", "complete", "success", "succeeded", "done", "ready", "generated"]);
const FAILED = new Set(["failed", "error", "errored", "failure", "cancelled", "canceled", "rejected", "aborted"]);
/** Finished, its files gone (aged out): the video was made; a refresh must not count it as failed. */
const EXPIRED = new Set(["expired"]);

/** Legacy-shape `video.code` values (the shape has no status word): 1 running, 2 done, 3 failed. */
const LEGACY_CODES: Record<number, VideoState> = { 1: "processing", 2: "finished", 3: "failed" };

/** Fields that only a failed job carries; `message` is not one of them (a queue notice uses it too). */
const ERROR_FIELDS = [
    "error",
    "error_message",
    "errorMessage",
    "failure_reason",
    "failureReason",
    "fail_reason",
    "failed_reason",
];

/**
 * Normalizes `{"status":"success","video":{...}}` in either documented shape, by rule:
 * - a known status word decides (failure words fail, progress words wait, done words finish, `expired`
 *   is a finished video whose files are gone); `timeout` is not a known word (a job's or a link's?);
 * - the legacy shape's `video.code` decides when there is no word;
 * - otherwise a generation URL means finished, an error-like field (never a plain `message`) means
 *   failed with the vendor's words, and anything else waits, its progress line naming an unknown word.
 * URLs are read from a string, an array of strings or of objects (`{url}`), or an object (`{url}`).
 * Throws when the payload has no `video` object at all.
 */
export function parseStatusPayload(body: unknown): VideoStatus {
    const video = field(body, "video");
    if (typeof video !== "object" || video === null || Array.isArray(video)) {
        throw new Error("the status answer has no `video` object");
    }
    const url = field(video, "url");
    const videoUrl = urlOf(typeof url === "string" ? url : (field(url, "generation") ?? field(url, "video")));
    const thumbnailUrl = urlOf(field(url, "thumbnail"));
    const createdAt = stringOrUndefined(field(video, "created_at"));
    const errorText = ERROR_FIELDS.map((k) => textOf(field(video, k))).find((t) => t !== undefined);
    const notice = stringOrUndefined(field(video, "message"));
    const rawWord = stringOrUndefined(field(video, "status"));
    const word = rawWord?.trim().toLowerCase();
    const code = Number(field(video, "code"));

    let state: VideoState;
    let progress: string | undefined;
    if (word !== undefined && FAILED.has(word)) {
        state = "failed";
    } else if (word !== undefined && EXPIRED.has(word)) {
        state = "expired";
    } else if (word !== undefined && DONE.has(word)) {
        state = "finished";
    } else if (word !== undefined && RUNNING.has(word)) {
        state = "processing";
    } else if (word === undefined && LEGACY_CODES[code] !== undefined) {
        state = LEGACY_CODES[code];
    } else if (errorText !== undefined) {
        state = "failed";
    } else if (videoUrl) {
        state = "finished";
    } else {
        state = "processing";
        if (word !== undefined) {
            progress = `"${rawWord!.slice(0, 40)}" (a status word this provider does not know; still waiting)`;
        }
    }
    const message = state === "failed" ? (errorText ?? notice) : notice;
    const known = word === undefined || FAILED.has(word) || EXPIRED.has(word) || DONE.has(word) || RUNNING.has(word);
    return {
        ...(known ? {} : { unknownWord: rawWord!.slice(0, 40) }),
        state,
        vendorStatus: word,
        videoUrl,
        thumbnailUrl,
        createdAt,
        message,
        progress: progress ?? word ?? state,
    };
}

function field(obj: unknown, key: string): unknown {
    return typeof obj === "object" && obj !== null && !Array.isArray(obj)
        ? (obj as Record<string, unknown>)[key]
        : undefined;
}

function stringOrUndefined(v: unknown): string | undefined {
    return typeof v === "string" && v.trim() !== "" ? v : undefined;
}

/** A vendor's error field as text: a string, or an object's message/error/detail. */
function textOf(v: unknown): string | undefined {
    if (typeof v === "object" && v !== null) {
        return (
            stringOrUndefined(field(v, "message")) ??
            stringOrUndefined(field(v, "error")) ??
            stringOrUndefined(field(v, "detail"))
        );
    }
    return stringOrUndefined(v);
}

/** The first URL in a string, an `{url}` object, or an array of either. */
function urlOf(v: unknown): string | undefined {
    if (Array.isArray(v)) {
        for (const x of v) {
            const u = urlOf(x);
            if (u) {
                return u;
            }
        }
        return undefined;
    }
    if (typeof v === "object" && v !== null) {
        for (const k of ["url", "href", "link", "src", "generation"]) {
            const u = stringOrUndefined(field(v, k));
            if (u) {
                return u;
            }
        }
        return undefined;
    }
    return stringOrUndefined(v);
}
