/** `check`: validation of a Video's inputs (before any paid call) and the image's digest. */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface CheckFailure {
    property: string;
    reason: string;
}

/** The value the engine puts where an input is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const ASPECT_RATIOS = ["1:1", "16:9", "9:16"];
export const MAX_PROMPT_CHARS = 2500;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MINUTES = 30;
/** Form fields the provider sets itself; extraParams may not override them. */
const RESERVED_FIELDS = ["prompt", "style", "aspect_ratio", "file", "image"];
/** Vendor ids: letters, digits, dashes and underscores. No `/`, no whitespace, nothing to escape. */
export const VIDEO_ID = /^[A-Za-z0-9_-]{1,128}$/;

const isUnknown = (v: unknown): boolean => v === UNKNOWN;

/**
 * Validates the inputs and computes the image digest. Never calls the vendor; values not known
 * yet (preview) are let through. `cwd` is where relative image paths are resolved: the program's
 * folder, which is also the provider process's working directory. Messages never repeat an input's
 * value (any input may hold a secret), except image paths.
 * `olds` are the previous inputs: an `imageDigest` the engine carried over from them (the resource's
 * `ignoreChanges` lists it) is kept, so a re-saved image does not force a new video.
 */
export function checkInputs(
    news: Record<string, unknown>,
    cwd: string,
    olds: Record<string, unknown> = {},
): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
    const failures: CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    const inputs: Record<string, unknown> = { ...news };
    const has = (k: string) => news[k] !== undefined && news[k] !== null;

    if (has("adoptVideoId")) {
        const id = news.adoptVideoId;
        if (typeof id === "number") {
            // Numeric ids (the legacy status shape's) are accepted as text.
            if (Number.isSafeInteger(id) && id >= 0) {
                inputs.adoptVideoId = String(id);
            } else {
                fail(
                    "adoptVideoId",
                    "is a number that is not a whole number below 2^53 (larger ones lose digits in JavaScript): write the id as a string, as the Imagine API returned it.",
                );
            }
        } else if (!isUnknown(id) && (typeof id !== "string" || !VIDEO_ID.test(id))) {
            fail(
                "adoptVideoId",
                `is not a video id (${describeId(id)}): ids are 1-128 letters, digits, "-" or "_", with no "/" or whitespace. Copy the id the Imagine API returned.`,
            );
        }
        for (const k of ["prompt", "style", "aspectRatio", "imagePath", "extraParams"]) {
            if (has(k)) {
                fail(
                    k,
                    `set either adoptVideoId (to adopt an existing video) or ${k} and the other generation inputs (to generate one), not both: remove ${k}.`,
                );
            }
        }
    } else {
        checkPrompt(news.prompt, fail);
        checkStyle(news.style, fail);
    }
    if (has("aspectRatio") && !isUnknown(news.aspectRatio) && !ASPECT_RATIOS.includes(news.aspectRatio as string)) {
        fail("aspectRatio", `is not an aspect ratio the Imagine API accepts: use one of ${ASPECT_RATIOS.join(", ")}.`);
    }
    if (has("imagePath") && !isUnknown(news.imagePath)) {
        const digest = checkImage(news.imagePath, cwd, fail);
        const carried =
            typeof news.imageDigest === "string" &&
            /^sha256:[0-9a-f]{64}$/.test(news.imageDigest) &&
            news.imageDigest === olds.imageDigest;
        if (digest) {
            inputs.imageDigest = carried ? news.imageDigest : digest;
        }
    } else if (isUnknown(news.imagePath)) {
        inputs.imageDigest = UNKNOWN;
    } else {
        delete inputs.imageDigest;
    }
    if (has("extraParams")) {
        checkExtraParams(news.extraParams, fail);
    }
    if (has("waitForCompletion") && !isUnknown(news.waitForCompletion) && typeof news.waitForCompletion !== "boolean") {
        fail("waitForCompletion", "must be true or false.");
    }
    if (has("timeoutMinutes") && !isUnknown(news.timeoutMinutes)) {
        const t = news.timeoutMinutes;
        if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) {
            fail(
                "timeoutMinutes",
                `is not a positive number of minutes (${typeof t === "number" ? "a number at or below 0" : `a ${typeof t}`}): use e.g. ${DEFAULT_TIMEOUT_MINUTES} (the default); the vendor takes 10-15 minutes a video.`,
            );
        }
    }
    return { inputs, failures };
}

function checkPrompt(prompt: unknown, fail: (p: string, r: string) => void): void {
    if (isUnknown(prompt)) {
        return;
    }
    if (typeof prompt !== "string" || prompt.trim() === "") {
        fail(
            "prompt",
            "is required and must not be empty: describe the video to generate (or set adoptVideoId to adopt an existing video instead).",
        );
    } else if (prompt.length > MAX_PROMPT_CHARS) {
        fail(
            "prompt",
            `is ${prompt.length} characters long; the Imagine API accepts at most ${MAX_PROMPT_CHARS}: shorten it.`,
        );
    }
}

function checkStyle(style: unknown, fail: (p: string, r: string) => void): void {
    if (isUnknown(style)) {
        return;
    }
    if (typeof style !== "string" || style.trim() === "") {
        fail("style", 'is required: name the Imagine video style, e.g. "kling-1.0-pro" or "fast-svd".');
    } else if (!/^[A-Za-z0-9._-]+$/.test(style)) {
        fail(
            "style",
            'is not a style name: only letters, digits, ".", "-" and "_" are allowed; use e.g. "kling-1.0-pro".',
        );
    }
}

function checkExtraParams(extra: unknown, fail: (p: string, r: string) => void): void {
    if (isUnknown(extra)) {
        return;
    }
    if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
        fail("extraParams", "must be a map of form field names to string values.");
        return;
    }
    for (const [k, v] of Object.entries(extra)) {
        if (RESERVED_FIELDS.includes(k)) {
            fail(
                "extraParams",
                `"${k}" is set by the resource itself: use the matching input instead of extraParams.${k}.`,
            );
        } else if (typeof v !== "string" && !isUnknown(v)) {
            fail(
                "extraParams",
                `extraParams.${k.slice(0, 60)} must be a string (form fields are text): write the ${typeof v} as a string, e.g. with String(...).`,
            );
        }
    }
}

/** What is wrong with an id, without repeating it. */
export function describeId(id: unknown): string {
    if (typeof id !== "string") {
        return `a ${id === null ? "null" : typeof id}, not text`;
    }
    if (id.length === 0 || id.length > 128) {
        return `${id.length} characters long`;
    }
    if (/\s/.test(id)) {
        return "it contains whitespace";
    }
    if (/[/\\%]/.test(id)) {
        return 'it contains "/", "\\" or "%"';
    }
    return 'it contains characters other than letters, digits, "-" and "_"';
}

/** Validates the image and returns its sha256 digest, or undefined after recording a failure. */
function checkImage(imagePath: unknown, cwd: string, fail: (p: string, r: string) => void): string | undefined {
    if (typeof imagePath !== "string" || imagePath.trim() === "") {
        fail("imagePath", "must be the path of a local JPEG or PNG file.");
        return undefined;
    }
    const full = path.resolve(cwd, imagePath);
    let stat: fs.Stats;
    try {
        stat = fs.statSync(full);
    } catch {
        fail(
            "imagePath",
            `"${imagePath}" does not exist (resolved to ${full}): check the path; relative paths start at the program's folder.`,
        );
        return undefined;
    }
    if (!stat.isFile()) {
        const what = stat.isDirectory() ? "a folder" : "a special file (a named pipe, socket or device)";
        fail("imagePath", `"${imagePath}" is ${what}, not a file: point it at a JPEG or PNG image.`);
        return undefined;
    }
    if (stat.size > MAX_IMAGE_BYTES) {
        fail(
            "imagePath",
            `"${imagePath}" is ${stat.size} bytes; images may be at most ${MAX_IMAGE_BYTES} bytes (10 MiB): resize or compress it.`,
        );
        return undefined;
    }
    // Hashed in chunks: checking a hundred 10 MiB images must not hold a hundred copies.
    const hash = createHash("sha256");
    let head: Buffer | undefined;
    try {
        const fd = fs.openSync(full, "r");
        try {
            const chunk = Buffer.allocUnsafe(1024 * 1024);
            for (;;) {
                const n = fs.readSync(fd, chunk, 0, chunk.length, null);
                if (n === 0) {
                    break;
                }
                head ??= Buffer.from(chunk.subarray(0, Math.min(n, 16)));
                hash.update(chunk.subarray(0, n));
            }
        } finally {
            fs.closeSync(fd);
        }
    } catch (e) {
        fail(
            "imagePath",
            `"${imagePath}" cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}): check its permissions.`,
        );
        return undefined;
    }
    if (!head || !imageContentType(head)) {
        fail(
            "imagePath",
            `"${imagePath}" is not a JPEG or PNG image (its first bytes say otherwise): convert it to JPEG or PNG.`,
        );
        return undefined;
    }
    return "sha256:" + hash.digest("hex");
}

/** "image/jpeg" or "image/png" from the file's magic bytes; undefined for anything else. */
export function imageContentType(bytes: Buffer): string | undefined {
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
        return "image/jpeg";
    }
    if (
        bytes.length >= 8 &&
        bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    ) {
        return "image/png";
    }
    return undefined;
}
