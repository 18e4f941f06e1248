/** The Imagine API's operations (generate, status, delete) and their URL variants, over one RequestSender. */
import { Priority } from "./budget";
import {
    ImagineConnectionError,
    ImagineError,
    ImagineGenerationUncertainError,
    ImagineServerError,
} from "./errors";
import { ImagineProtocolError, ImagineRouteNotFoundError, ImagineVideoNotFoundError } from "./errors";
import { RequestSender } from "./request-sender";
import { parseStatusPayload, VideoStatus } from "./status";

export interface ImageUpload {
    bytes: Buffer;
    filename: string;
    contentType: string;
}

export interface GenerationRequest {
    prompt: string;
    style: string;
    aspectRatio?: string;
    /** Present for image to video. */
    image?: ImageUpload;
    /** Extra form fields passed through as they are. */
    extraParams?: Record<string, string>;
}

/** Whether a failed generation request may have reached the vendor and been accepted. */
function mayHaveAccepted(e: unknown): boolean {
    return (e instanceof ImagineConnectionError && e.requestMayHaveArrived) || (e instanceof ImagineServerError && e.httpStatus !== 503);
}

function uncertain(e: ImagineError): ImagineGenerationUncertainError {
    return new ImagineGenerationUncertainError(
        `${e.problem} The Imagine API may have accepted this generation before its answer was lost; if so, a video ` +
            "exists that this stack does not record (the API cannot list videos to find it). Running `pulumi up` " +
            "again starts a new generation. To be sure nothing stays paid for, look for a video with this prompt in " +
            "the Imagine dashboard and hand its id to a Video with `adoptVideoId`, so that `pulumi destroy` deletes it.",
        { httpStatus: e.httpStatus, vendorCode: e.vendorCode, vendorMessage: e.vendorMessage, operation: e.operation, problem: e.problem },
    );
}

interface Route {
    method: "GET" | "POST" | "DELETE";
    path: (id: string) => string;
}

/** The three documented status URLs, current form first; `assets` is documented with both methods. */
const STATUS_ROUTES: Route[] = [
    { method: "GET", path: (id) => `/v2/video/${id}/status` },
    { method: "GET", path: (id) => `/v2/video/status/${id}` },
    { method: "GET", path: (id) => `/v2/assets/${id}/status` },
    { method: "POST", path: (id) => `/v2/assets/${id}/status` },
];

/** The Delete page says POST in its endpoint line and DELETE in its curl: DELETE first. */
const DELETE_ROUTES: Route[] = [
    { method: "DELETE", path: (id) => `/v2/video/delete/${id}` },
    { method: "POST", path: (id) => `/v2/video/delete/${id}` },
];

/**
 * The Imagine video API, one method per vendor operation. Knows the documented URL variants and
 * falls back between them when one is not served (a 404 without the vendor's body, or a 405),
 * remembering the form that worked. A 404 with the vendor's body is an answer, not a missing route.
 */
export class ImagineClient {
    private statusRoute = 0;
    private deleteRoute = 0;

    constructor(readonly sender: RequestSender) {}

    /** Starts a generation; text to video, or image to video when `req.image` is set. */
    async createVideo(req: GenerationRequest, deadlineMs: number): Promise<{ id: string }> {
        const form = new FormData();
        for (const [k, v] of Object.entries(req.extraParams ?? {})) {
            form.append(k, v);
        }
        form.append("prompt", req.prompt);
        form.append("style", req.style);
        if (req.aspectRatio) {
            form.append("aspect_ratio", req.aspectRatio);
        }
        if (req.image) {
            form.append("file", new Blob([req.image.bytes], { type: req.image.contentType }), req.image.filename);
        }
        const path = req.image ? "/v2/video/image-to-video" : "/v2/video/text-to-video";
        let body: unknown;
        try {
            body = await this.sender.send({ method: "POST", path, form, idempotent: false, deadlineMs, priority: "high" });
        } catch (e) {
            throw mayHaveAccepted(e) ? uncertain(e as ImagineError) : e;
        }
        const id = (body as { id?: unknown }).id;
        if ((typeof id !== "string" && typeof id !== "number") || String(id) === "") {
            throw new ImagineProtocolError(`POST ${path}: the answer has no video id`, { operation: `POST ${path}` });
        }
        return { id: String(id) };
    }

    /** The video's status; throws ImagineVideoNotFoundError when it is gone. */
    async getStatus(id: string, deadlineMs: number): Promise<VideoStatus> {
        const body = await this.withFallback(STATUS_ROUTES, "statusRoute", id, deadlineMs, "low");
        try {
            return parseStatusPayload(body);
        } catch (e) {
            throw new ImagineProtocolError(`status of video ${id}: ${(e as Error).message}`, {});
        }
    }

    /**
     * Deletes the video. Resolves "already-gone" when the vendor says it does not exist.
     * `used`, when given, is told the method of the route that answered (for deletion receipts).
     */
    async deleteVideo(id: string, deadlineMs: number, used?: { method?: "DELETE" | "POST" }): Promise<"deleted" | "already-gone"> {
        try {
            await this.withFallback(DELETE_ROUTES, "deleteRoute", id, deadlineMs, "high", used && ((r) => (used.method = r.method as "DELETE" | "POST")));
            return "deleted";
        } catch (e) {
            if (e instanceof ImagineVideoNotFoundError) {
                return "already-gone";
            }
            throw e;
        }
    }

    private async withFallback(
        routes: Route[],
        memo: "statusRoute" | "deleteRoute",
        id: string,
        deadlineMs: number,
        priority: Priority,
        onRoute?: (route: Route) => void,
    ): Promise<unknown> {
        const start = this[memo];
        let lastMissing: ImagineRouteNotFoundError | undefined;
        for (let i = 0; i < routes.length; i++) {
            const index = (start + i) % routes.length;
            const route = routes[index];
            onRoute?.(route);
            try {
                const body = await this.sender.send({
                    method: route.method,
                    path: route.path(encodeURIComponent(id)),
                    idempotent: true,
                    deadlineMs,
                    priority,
                });
                this[memo] = index;
                return body;
            } catch (e) {
                if (!(e instanceof ImagineRouteNotFoundError)) {
                    throw e;
                }
                lastMissing = e;
            }
        }
        throw lastMissing!;
    }
}
