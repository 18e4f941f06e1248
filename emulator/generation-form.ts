/**
 * Reads and validates the multipart form of text-to-video and image-to-video. The image is read
 * chunk by chunk up to maxUploadBytes; past it, reading stops and the caller answers 413.
 */
import type { FastifyRequest } from "fastify";
import type { Multipart } from "@fastify/multipart";
import { ERRORS, type ErrorRow } from "./errors";
import { imageKind } from "./media";
import { FORM_OVERHEAD_BYTES } from "./vendor-gate";

export const KNOWN_STYLES = [
    "fast-svd",
    "kling-1.0-pro",
    "kling-1.5-pro",
    "kling-1.0-standard",
    "kling-1.5",
    "hailuo-ai",
    "hailuo-live-ai",
    "luma-dream-machine-ray-2",
] as const;
export const ASPECT_RATIOS = ["1:1", "16:9", "9:16"] as const;
export const MAX_PROMPT_CHARS = 2500;
const IMAGE_PARTS = ["file", "image"];
const MAX_FIELD_BYTES = 64 * 1024;

export interface GenerationForm {
    prompt: string;
    style: string;
    aspectRatio: string | null;
    /** fields the vendor does not document; stored as given */
    extra: Record<string, string>;
    image?: { bytes: Buffer; kind: "png" | "jpg" };
}

export type FormResult = { ok: true; form: GenerationForm } | { ok: false; row: ErrorRow; message: string };

const fail = (row: ErrorRow, message: string): FormResult => ({ ok: false, row, message });

class TooLarge extends Error {}

/** Reads the image part; rejects with TooLarge the moment the limit is hit, without waiting for the rest. */
function readImage(part: Multipart & { type: "file" }, limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const stream = part.file;
        stream.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) reject(new TooLarge());
            else chunks.push(chunk);
        });
        stream.once("limit", () => reject(new TooLarge()));
        stream.once("end", () => (stream.truncated ? reject(new TooLarge()) : resolve(Buffer.concat(chunks))));
        stream.once("error", reject);
    });
}

/** Discards a file part that is not the image; at the upload limit it stops at once, as the image does. */
function drain(part: Multipart & { type: "file" }): Promise<void> {
    return new Promise((resolve, reject) => {
        const stream = part.file;
        stream.on("data", () => undefined);
        stream.once("limit", () => reject(new TooLarge()));
        stream.once("end", () => (stream.truncated ? reject(new TooLarge()) : resolve()));
        stream.once("error", reject);
    });
}

/**
 * The whole body is capped too (limit + form overhead, as a declared length is): busboy truncates an
 * overlong text field but would read the rest of it, however long, before the part ends.
 */
async function collect(request: FastifyRequest, maxUploadBytes: number) {
    const cap = maxUploadBytes + FORM_OVERHEAD_BYTES;
    let seen = 0;
    let overCap: (err: Error) => void = () => undefined;
    const over = new Promise<never>((_resolve, reject) => (overCap = reject));
    const count = (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > cap) overCap(new TooLarge());
    };
    request.raw.on("data", count);
    const reading = readParts(request, maxUploadBytes);
    reading.catch(() => undefined); // once over the cap, the socket is dropped and this read fails
    try {
        return await Promise.race([reading, over]);
    } finally {
        request.raw.off("data", count);
    }
}

async function readParts(request: FastifyRequest, maxUploadBytes: number) {
    const fields: Record<string, string> = {};
    let image: Buffer | undefined;
    const parts = request.parts({
        limits: {
            fileSize: maxUploadBytes,
            fieldSize: MAX_FIELD_BYTES,
            fields: 100,
            files: 5,
            parts: 110,
            headerPairs: 100,
        },
    });
    for await (const part of parts) {
        if (part.type === "file") {
            if (IMAGE_PARTS.includes(part.fieldname) && image === undefined)
                image = await readImage(part, maxUploadBytes);
            else await drain(part);
            continue;
        }
        if (part.valueTruncated || part.fieldnameTruncated) throw new RangeError(`field ${part.fieldname} is too long`);
        // A field sent as application/json arrives parsed: keep it as the JSON text it was.
        if (!(part.fieldname in fields))
            fields[part.fieldname] = typeof part.value === "string" ? part.value : (JSON.stringify(part.value) ?? "");
    }
    return { fields, image };
}

function isTooLarge(err: unknown): boolean {
    return err instanceof TooLarge || (err as { statusCode?: number }).statusCode === 413;
}

export async function readGenerationForm(
    request: FastifyRequest,
    withImage: boolean,
    maxUploadBytes: number,
): Promise<FormResult> {
    if (!request.isMultipart()) return fail(ERRORS.invalidRequest, "the body must be multipart/form-data");
    let collected: Awaited<ReturnType<typeof collect>>;
    try {
        collected = await collect(request, maxUploadBytes);
    } catch (err) {
        if (isTooLarge(err)) return fail(ERRORS.tooLarge, `image larger than ${maxUploadBytes} bytes`);
        const detail = err instanceof RangeError ? err.message : "malformed multipart body";
        return fail(ERRORS.invalidRequest, detail);
    }
    const { fields, image } = collected;
    const { prompt, style, aspect_ratio: aspectRatio, ...extra } = fields;
    if (!prompt || prompt.trim() === "") return fail(ERRORS.invalidRequest, "prompt is required");
    if (!style || style.trim() === "") return fail(ERRORS.styleMissing, "no style provided");
    if (!(KNOWN_STYLES as readonly string[]).includes(style))
        return fail(ERRORS.invalidRequest, `unknown style: ${style.slice(0, 64)}`);
    if (aspectRatio !== undefined && !(ASPECT_RATIOS as readonly string[]).includes(aspectRatio)) {
        return fail(ERRORS.invalidRequest, `aspect_ratio must be one of ${ASPECT_RATIOS.join(", ")}`);
    }
    if ([...prompt].length > MAX_PROMPT_CHARS)
        return fail(ERRORS.invalidRequest, `prompt longer than ${MAX_PROMPT_CHARS} characters`);
    const form: GenerationForm = { prompt, style, aspectRatio: aspectRatio ?? null, extra };
    if (withImage) {
        if (!image || image.length === 0)
            return fail(ERRORS.invalidRequest, "image file is required (file part 'file')");
        const kind = imageKind(image);
        if (!kind) return fail(ERRORS.invalidRequest, "the file is not a JPEG or PNG image");
        form.image = { bytes: image, kind };
    }
    return { ok: true, form };
}
