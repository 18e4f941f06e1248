/** The Imagine API's operations (generate, status, delete) and their URL variants, over one RequestSender. */
import { randomBytes } from "crypto";
import { Priority } from "../budget/budget";
import {
    ImagineConnectionError,
    ImagineError,
    ImagineGenerationUncertainError,
    ImagineServerError,
} from "../core/errors";
import { ImagineProtocolError, ImagineRouteNotFoundError, ImagineVideoNotFoundError } from "../core/errors";
import { ImageFile, openImageForUpload } from "../inputs/image-file";
import { RequestSender } from "./request-sender";
import { excerpt } from "./responses";
import { parseStatusPayload, VideoStatus } from "./status";

export interface GenerationRequest {
    prompt: string;
    style: string;
    aspectRatio?: string;
    /** Present for image to video: read (and checked) only when the request is sent. */
    image?: ImageFile;
    /** Extra form fields passed through as they are. */
    extraParams?: Record<string, string>;
}

/** Whether a failed generation request may have reached the vendor and been accepted. */
function mayHaveAccepted(e: unknown): boolean {
    return (
        (e instanceof ImagineConnectionError && e.requestMayHaveArrived) ||
        (e instanceof ImagineServerError && e.httpStatus !== 503)
    );
}

function uncertain(e: ImagineError): ImagineGenerationUncertainError {
    return new ImagineGenerationUncertainError(
        `${e.problem} The Imagine API may have accepted this generation without an answer this provider can use; if so, a video ` +
            "exists that this stack does not record (the API cannot list videos to find it). Running `pulumi up` " +
            "again starts a new generation. To be sure nothing stays paid for, look for a video with this prompt in " +
            "the Imagine dashboard and hand its id to a Video with `adoptVideoId`, so that `pulumi destroy` deletes it.",
        {
            httpStatus: e.httpStatus,
            vendorCode: e.vendorCode,
            vendorMessage: e.vendorMessage,
            operation: e.operation,
            problem: e.problem,
        },
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

/** Where documented answers put a video's id: `{"id"}` (create), `{"video": {"uuid"|"id"}}` (status), and `data` wrappers. */
const ID_PATHS: string[][] = [
    ["id"],
    ["uuid"],
    ["data", "id"],
    ["data", "uuid"],
    ["video", "id"],
    ["video", "uuid"],
    ["data", "video", "id"],
    ["data", "video", "uuid"],
];

/** An id as text: a non-empty string without whitespace or "/", or an integer (large ones arrive as text, see parseJson). */
export function videoIdOf(body: unknown): string | undefined {
    for (const p of ID_PATHS) {
        let v: unknown = body;
        for (const k of p) {
            v =
                typeof v === "object" && v !== null && !Array.isArray(v)
                    ? (v as Record<string, unknown>)[k]
                    : undefined;
        }
        const text =
            typeof v === "number" && Number.isInteger(v) && v >= 0
                ? String(v)
                : typeof v === "string"
                  ? v.trim()
                  : undefined;
        if (text && /^[^\s/]{1,128}$/.test(text)) {
            return text;
        }
    }
    return undefined;
}

/** A 404's body with the request's path and id taken out, to compare with the canary's. */
function normalizeBody(body: string | undefined, path: string, id: string): string {
    return (body ?? "").split(path).join("<path>").split(id).join("<id>");
}

/** What a status read says about a video that a delete was told is gone. */
type Confirmation = "gone" | "exists" | "unknown";

/** What the endpoint answered a URL it surely does not serve (the canary): how its "no such route" looks. */
type CanaryAnswer = { kind: "route-missing" } | { kind: "not-found"; body: string } | { kind: "anything" };

/**
 * The Imagine video API, one method per vendor operation. Knows the documented URL variants and
 * falls back between them when one is not served (a 404 that is not JSON or says the route is
 * missing, or a 405), remembering the form that worked. A 404 counts as "no such video" only when it
 * is positively about the video: the vendor's error body, or a 404 of a status form that answered
 * 2xx in this process, or one the endpoint tells apart from its answer to a made-up URL (one canary
 * request, said in the log). A server that answers `{"detail":"Not Found"}` to every unknown URL
 * proves nothing: the read fails, naming the endpoint, and nothing is counted as gone.
 */
export class ImagineClient {
    private statusRoute = 0;
    private deleteRoute = 0;
    /** Status forms that have answered 2xx in this process: their 404s are about the video. */
    private readonly servedStatusRoutes = new Set<number>();
    /** The canary's answer, asked once per client (never cached when it failed). */
    private canary?: Promise<CanaryAnswer>;
    private readonly told = new Set<string>();

    constructor(
        readonly sender: RequestSender,
        private readonly log: (message: string) => void = () => undefined,
    ) {}

    /** Starts a generation; text to video, or image to video when `req.image` is set. */
    async createVideo(req: GenerationRequest, deadlineMs: number): Promise<{ id: string }> {
        const form = async () => {
            const f = new FormData();
            for (const [k, v] of Object.entries(req.extraParams ?? {})) {
                f.append(k, v);
            }
            f.append("prompt", req.prompt);
            f.append("style", req.style);
            if (req.aspectRatio) {
                f.append("aspect_ratio", req.aspectRatio);
            }
            if (req.image) {
                f.append("file", await openImageForUpload(req.image), req.image.filename);
            }
            return f;
        };
        const path = req.image ? "/v2/video/image-to-video" : "/v2/video/text-to-video";
        let body: unknown;
        try {
            body = await this.sender.send({
                method: "POST",
                path,
                form,
                idempotent: false,
                deadlineMs,
                priority: "high",
            });
        } catch (e) {
            throw mayHaveAccepted(e) ? uncertain(e as ImagineError) : e;
        }
        const id = videoIdOf(body);
        if (id === undefined) {
            const fields = Object.keys(body as object)
                .slice(0, 10)
                .map((k) => k.slice(0, 30))
                .join(", ");
            throw uncertain(
                new ImagineProtocolError(
                    `POST ${path}: the Imagine API answered success without a video id (answer fields: ${fields || "none"}).`,
                    {
                        operation: `POST ${path}`,
                    },
                ),
            );
        }
        return { id };
    }

    /**
     * The video's status; throws ImagineVideoNotFoundError when it is gone. `priority` "high" for a read
     * that is part of a delete (its proof), which the budget serves with the deletes; polls are "low".
     */
    async getStatus(id: string, deadlineMs: number, priority: Priority = "low"): Promise<VideoStatus> {
        const body = await this.statusBody(id, deadlineMs, priority);
        let status: VideoStatus;
        try {
            status = parseStatusPayload(body);
        } catch (e) {
            throw new ImagineProtocolError(`status of video ${id}: ${(e as Error).message}`, {});
        }
        // The vendor's words reach messages and outputs: without secrets, and short.
        if (status.message !== undefined) {
            status.message = excerpt(status.message, (t) => this.sender.redact(t), 300);
        }
        status.progress = excerpt(status.progress, (t) => this.sender.redact(t), 100);
        return status;
    }

    /**
     * Deletes the video. Resolves "already-gone" only when two answers agree that it does not exist:
     * a 404 on one delete method is confirmed by a status read (or, when no status form is served,
     * by the other method). When the status shows the video, the other method is tried.
     * `used`, when given, is told the method of the last delete sent (for deletion receipts).
     */
    async deleteVideo(
        id: string,
        deadlineMs: number,
        used?: { method?: "DELETE" | "POST" },
    ): Promise<"deleted" | "already-gone"> {
        let goneSaidBy: string | undefined;
        let statusShowsVideo = false;
        let missing: ImagineRouteNotFoundError | undefined;
        let firstWasVendors = false;
        for (const index of [this.deleteRoute, 1 - this.deleteRoute]) {
            const route = DELETE_ROUTES[index];
            if (used) used.method = route.method as "DELETE" | "POST";
            try {
                await this.sendRoute(route, id, deadlineMs, "high");
                this.deleteRoute = index;
                return "deleted";
            } catch (e) {
                if (e instanceof ImagineRouteNotFoundError) {
                    missing = e;
                    continue;
                }
                if (!(e instanceof ImagineVideoNotFoundError)) {
                    throw e;
                }
                if (goneSaidBy !== undefined && !statusShowsVideo && e.vendorSchema && firstWasVendors) {
                    return "already-gone"; // both methods say so in the vendor's words, and no status form is served to ask
                }
                firstWasVendors = e.vendorSchema;
                goneSaidBy = e.operation ?? `${route.method} ${route.path(id)}`;
                if (!statusShowsVideo) {
                    const confirmation = await this.confirm(id, deadlineMs);
                    if (confirmation === "gone") {
                        return "already-gone";
                    }
                    statusShowsVideo = confirmation === "exists";
                }
            }
        }
        if (goneSaidBy !== undefined) {
            throw new ImagineProtocolError(
                `video ${id}: ${goneSaidBy} answered 404, but ${statusShowsVideo ? "its status shows the video exists" : "nothing confirms it is gone (no status form or other delete method is served)"}, ` +
                    "so it is not counted as deleted and stays in the stack. Run `pulumi destroy` again; if this persists, check imagine:baseUrl.",
                { operation: goneSaidBy, httpStatus: 404 },
            );
        }
        throw missing!;
    }

    /** One request to a documented route of a video (a status form or a delete method), the id escaped into the path. */
    private sendRoute(route: Route, id: string, deadlineMs: number, priority: Priority): Promise<unknown> {
        return this.sender.send({
            method: route.method,
            path: route.path(encodeURIComponent(id)),
            idempotent: true,
            deadlineMs,
            priority,
        });
    }

    /** A status read after a delete was told 404: part of the delete, so at the deletes' priority. */
    private async confirm(id: string, deadlineMs: number): Promise<Confirmation> {
        try {
            await this.statusBody(id, deadlineMs, "high");
            return "exists";
        } catch (e) {
            if (e instanceof ImagineVideoNotFoundError) {
                return "gone";
            }
            if (e instanceof ImagineRouteNotFoundError) {
                return "unknown";
            }
            throw e;
        }
    }

    /** The status answer, trying the documented forms from the remembered one. */
    private async statusBody(id: string, deadlineMs: number, priority: Priority): Promise<unknown> {
        const start = this.statusRoute;
        let lastMissing: ImagineRouteNotFoundError | undefined;
        let notFound: { error: ImagineVideoNotFoundError; path: string } | undefined;
        for (let i = 0; i < STATUS_ROUTES.length; i++) {
            const index = (start + i) % STATUS_ROUTES.length;
            const route = STATUS_ROUTES[index];
            try {
                const body = await this.sendRoute(route, id, deadlineMs, priority);
                this.statusRoute = index;
                this.servedStatusRoutes.add(index);
                return body;
            } catch (e) {
                if (e instanceof ImagineVideoNotFoundError && !e.vendorSchema && !this.servedStatusRoutes.has(index)) {
                    notFound ??= { error: e, path: route.path(encodeURIComponent(id)) }; // another form may still serve the video
                    continue;
                }
                if (!(e instanceof ImagineRouteNotFoundError)) {
                    throw e;
                }
                lastMissing = e;
            }
        }
        if (notFound) {
            await this.proveAboutVideo(notFound.error, notFound.path, id, deadlineMs);
            throw notFound.error;
        }
        throw lastMissing!;
    }

    /**
     * A 404 that is not in the vendor's words, from a status form that has not answered 2xx in this
     * process: it is about the video only if the endpoint answers a URL it surely does not serve in
     * another way (one canary request per client). Otherwise it proves nothing, and this throws.
     */
    private async proveAboutVideo(
        e: ImagineVideoNotFoundError,
        path: string,
        id: string,
        deadlineMs: number,
    ): Promise<void> {
        const token = randomBytes(6).toString("hex");
        this.canary ??= this.askCanary(token, deadlineMs).catch((err: unknown) => {
            this.canary = undefined;
            throw err;
        });
        const answer = await this.canary;
        const base = this.sender.baseUrl;
        const shown =
            answer.kind === "route-missing" ||
            (answer.kind === "not-found" && answer.body !== normalizeBody(e.body, path, id));
        const said = e.body ? `"${e.body}"` : "an empty body";
        if (shown) {
            this.tellOnce(
                `the endpoint ${base} answers a URL it does not serve unlike ${e.operation} (${said}), as one canary request showed: its 404s are about the video`,
            );
            return;
        }
        throw new ImagineProtocolError(
            `video ${id}: ${e.operation} answered 404 with ${said}, which is not the Imagine API's answer, and ${base} answers a URL it ` +
                "does not serve the same way (one canary request): this proves nothing about the video, so it is not counted as gone " +
                "and stays in the stack. Check imagine:baseUrl (or IMAGINE_BASE_URL): it should be https://api.vyro.ai.",
            { operation: e.operation, httpStatus: 404 },
        );
    }

    /** One request to a URL no Imagine API serves; what came back, with its path and token taken out. */
    private async askCanary(token: string, deadlineMs: number): Promise<CanaryAnswer> {
        const path = `/v2/video/imagine-canary-${token}/no-such-route-${token}`;
        try {
            await this.sender.send({ method: "GET", path, idempotent: true, deadlineMs, priority: "low" });
            return { kind: "anything" };
        } catch (e) {
            if (e instanceof ImagineRouteNotFoundError) {
                return { kind: "route-missing" };
            }
            if (e instanceof ImagineVideoNotFoundError) {
                return e.vendorSchema
                    ? { kind: "route-missing" }
                    : { kind: "not-found", body: normalizeBody(e.body, path, `imagine-canary-${token}`) };
            }
            throw e;
        }
    }

    private tellOnce(message: string): void {
        if (!this.told.has(message)) {
            this.told.add(message);
            this.log(message);
        }
    }
}
