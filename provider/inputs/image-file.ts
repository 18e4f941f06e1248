/**
 * Reading an image for upload, at the moment the request is sent: the file must still be the one
 * `check` recorded (size within the limit, JPEG or PNG, the same sha256 digest), else nothing is
 * uploaded. Queued requests hold only this small descriptor, never the bytes; the upload itself
 * streams from a file-backed Blob (constant memory), and Node fails that read if the file is
 * modified after it was checked here.
 */
import { createHash } from "crypto";
import { openAsBlob } from "fs";
import { ImagineImageChangedError } from "../core/errors";
import { imageContentType, MAX_IMAGE_BYTES } from "./inputs";

/** An image as `check` recorded it. */
export interface ImageFile {
    /** Absolute path. */
    path: string;
    /** As the user wrote it (for messages). */
    imagePath: string;
    /** The file name sent in the form. */
    filename: string;
    /** `sha256:<hex>` recorded by check. */
    digest: string;
}

const AGAIN =
    "Nothing was uploaded and nothing is paid. Run `pulumi up` again to use the file as it is now (its new content " +
    "means a new video), or put the file back.";

/** The image as a Blob to upload, checked against what check recorded; throws ImagineImageChangedError when it differs. */
export async function openImageForUpload(image: ImageFile): Promise<Blob> {
    const changed = (what: string) =>
        new ImagineImageChangedError(`imagePath "${image.imagePath}" changed after it was checked: ${what}. ${AGAIN}`);
    let file: Blob;
    try {
        file = await openAsBlob(image.path);
    } catch (e) {
        throw changed(`it can no longer be opened (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (file.size > MAX_IMAGE_BYTES) {
        throw changed(`it is now ${file.size} bytes, over the 10 MiB limit`);
    }
    const contentType = imageContentType(Buffer.from(await file.slice(0, 16).arrayBuffer()));
    if (!contentType) {
        throw changed("it is no longer a JPEG or PNG image");
    }
    const hash = createHash("sha256");
    try {
        for await (const chunk of file.stream() as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
        }
    } catch {
        throw changed("it was modified while being read");
    }
    const digest = "sha256:" + hash.digest("hex");
    if (digest !== image.digest) {
        throw changed(
            `its content is not the one recorded (recorded ${image.digest.slice(0, 19)}..., now ${digest.slice(0, 19)}...; ` +
                "if `imageDigest` is in the resource's `ignoreChanges`, the recorded digest is the old file's)",
        );
    }
    // The same file-backed data, typed: the bytes are read again only as the upload streams.
    return file.slice(0, file.size, contentType);
}
