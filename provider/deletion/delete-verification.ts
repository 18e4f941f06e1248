/**
 * Proof that a deleted video is gone. With `imagine:verifyDeletes` = `file` (the default), the
 * stored file link (`videoUrl`, a presigned storage URL) is asked for one byte: storage, not the
 * API, answers, so this costs no API request and never carries the API token. The link is asked
 * before the delete is sent too: its 404 or 410 afterwards is proof only if it answered 2xx or 416
 * before (a stale link, a moved bucket, answers 404 whether the video exists or not). An expired or
 * refused link (403), any other answer, a link that did not work before, or no link falls back to a
 * status read, where the vendor's 404 is proof. `status` always reads the status. The probe goes
 * through the proxy the standard variables choose (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as API requests do.
 */
import axios, { AxiosInstance } from "axios";
import { ImagineClient } from "../api/client";
import { ImagineVideoNotFoundError } from "../core/errors";
import { VerifyDeletes } from "../inputs/settings";

/** How a delete was proven: the receipt's `verification` values besides `already-gone` and `unverified`. */
export type DeleteProof = "file-404" | "status-404";

/** Gone (with its proof), or still there and who saw it. */
export type GoneCheck = { gone: true; proof: DeleteProof } | { gone: false; seenBy: "file" | "status" };

/** What the storage said about the file link: gone (404/410), present (2xx, 416), or no answer to go by. */
export type FileAnswer = "gone" | "present" | "unknown";

export interface VerificationContext {
    client: ImagineClient;
    /** Per-request timeout of the file probe. */
    requestTimeoutMs: number;
}

/** The signature of an RPC secret, in case an engine hands delete its outputs still wrapped. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

/** The stored file link among a video's outputs, if it is an http(s) URL. */
export function storedFileUrl(props: Record<string, unknown>): string | undefined {
    let v: unknown = props.videoUrl;
    if (v && typeof v === "object" && SECRET_SIG_KEY in v) {
        v = (v as { value?: unknown }).value;
    }
    if (typeof v !== "string" || !/^https?:\/\//i.test(v)) {
        return undefined;
    }
    return v;
}

let storage: AxiosInstance | undefined;

/**
 * A plain HTTP client for storage links: no Authorization header, no base URL, outside the API's
 * request budget. Presigned links are usually signed for GET only, so a one-byte ranged GET is used
 * rather than HEAD; the body is never read.
 */
function storageClient(): AxiosInstance {
    // No `proxy` option: axios reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY for each request, like the RequestSender.
    storage ??= axios.create({ responseType: "stream", validateStatus: () => true, maxRedirects: 5 });
    return storage;
}

/** Asks storage for the first byte of the file. Never throws; never puts the URL in an error. */
export async function probeFile(url: string, timeoutMs: number): Promise<FileAnswer> {
    try {
        const response = await storageClient().request<NodeJS.ReadableStream & { destroy(): void }>({
            method: "GET",
            url,
            timeout: timeoutMs,
            headers: { Range: "bytes=0-0", Authorization: null },
        });
        response.data?.destroy?.();
        const status = response.status;
        if (status === 404 || status === 410) {
            return "gone";
        }
        if ((status >= 200 && status < 300) || status === 416) {
            return "present";
        }
        return "unknown";
    } catch {
        return "unknown";
    }
}

/**
 * Whether the vendor still holds the video, by the means `mode` says (`off` is never asked).
 * `fileUrl` is the stored link only when it answered 2xx or 416 before the delete (see probeFile).
 */
export async function checkGone(
    ctx: VerificationContext,
    id: string,
    fileUrl: string | undefined,
    mode: Exclude<VerifyDeletes, "off">,
    deadlineMs: number,
): Promise<GoneCheck> {
    if (mode === "file" && fileUrl) {
        const answer = await probeFile(fileUrl, ctx.requestTimeoutMs);
        if (answer === "gone") {
            return { gone: true, proof: "file-404" };
        }
        if (answer === "present") {
            return { gone: false, seenBy: "file" };
        }
    }
    try {
        // Part of the delete (its proof): served with the deletes, not in the share kept for polls.
        await ctx.client.getStatus(id, deadlineMs, "high");
        return { gone: false, seenBy: "status" };
    } catch (e) {
        if (e instanceof ImagineVideoNotFoundError) {
            return { gone: true, proof: "status-404" };
        }
        throw e;
    }
}
