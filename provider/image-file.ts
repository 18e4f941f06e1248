/**
 * Reading an image for upload, at the moment the request is sent: the file must still be the one
 * `check` recorded (size within the limit, JPEG or PNG, the same sha256 digest), else nothing is
 * uploaded. Queued requests hold only this small descriptor, never the bytes.
 */
import { createHash } from "crypto";
import { promises as fsp } from "fs";
import { ImagineImageChangedError } from "./errors";
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

/** Reads the image and checks it against what check recorded; throws ImagineImageChangedError when it differs. */
export async function readImageForUpload(image: ImageFile): Promise<{ bytes: Buffer; contentType: string }> {
    const changed = (what: string) =>
        new ImagineImageChangedError(`imagePath "${image.imagePath}" changed after it was checked: ${what}. ${AGAIN}`);
    let handle: fsp.FileHandle;
    try {
        handle = await fsp.open(image.path, "r");
    } catch (e) {
        throw changed(`it can no longer be opened (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    try {
        const stat = await handle.stat();
        if (!stat.isFile()) {
            throw changed("it is no longer a regular file");
        }
        if (stat.size > MAX_IMAGE_BYTES) {
            throw changed(`it is now ${stat.size} bytes, over the 10 MiB limit`);
        }
        const bytes = await handle.readFile();
        const contentType = imageContentType(bytes);
        if (!contentType) {
            throw changed("it is no longer a JPEG or PNG image");
        }
        const digest = "sha256:" + createHash("sha256").update(bytes).digest("hex");
        if (digest !== image.digest) {
            throw changed(`its content is not the one recorded (recorded ${image.digest.slice(0, 19)}..., now ${digest.slice(0, 19)}...; ` +
                "if `imageDigest` is in the resource's `ignoreChanges`, the recorded digest is the old file's)");
        }
        return { bytes, contentType };
    } finally {
        await handle.close();
    }
}
