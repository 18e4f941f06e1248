/**
 * The error hierarchy of the Imagine API client. Every failure a user can see is one of these:
 * each subclass says when it is raised and carries no request headers (so never the API token).
 */

export interface ImagineErrorDetails {
    /** HTTP status of the vendor's answer, when there was one. */
    httpStatus?: number;
    /** The vendor's internal error code (`code` in the error body), parsed to a number. */
    vendorCode?: number;
    /** The vendor's own message (`message` in the error body). */
    vendorMessage?: string;
    /** What was being done, e.g. "DELETE /v2/video/delete/abc". */
    operation?: string;
    /** What happened, without the advice of the message (for errors that wrap this one). */
    problem?: string;
}

/** Base class: anything the Imagine API or our client of it reports. */
export class ImagineError extends Error {
    readonly httpStatus?: number;
    readonly vendorCode?: number;
    readonly vendorMessage?: string;
    readonly operation?: string;
    readonly problem: string;

    constructor(message: string, details: ImagineErrorDetails = {}) {
        super(message);
        this.name = new.target.name;
        this.httpStatus = details.httpStatus;
        this.vendorCode = details.vendorCode;
        this.vendorMessage = details.vendorMessage;
        this.operation = details.operation;
        this.problem = details.problem ?? message;
    }
}

/** Raised before any request when the provider's configuration is missing or malformed. */
export class ImagineConfigError extends ImagineError {}

/** 400/401/403/406 with codes 1000-1007 or 1208: the token is missing, wrong, expired or not allowed. */
export class ImagineAuthError extends ImagineError {}

/** 402 / code 1101: the account has not enough credits (tokens) for the generation. */
export class ImagineCreditsError extends ImagineError {}

/** 400 / 413 with codes 1100 or 1103: the vendor rejected the request's fields. Not retried. */
export class ImagineInvalidRequestError extends ImagineError {}

/**
 * 404 with the vendor's error body, or with JSON that is about the video rather than a route: the video
 * does not exist for this key (never did, deleted, or another key's). `vendorSchema` is false for the
 * latter (e.g. `{"detail": "Video not found"}`).
 */
export class ImagineVideoNotFoundError extends ImagineError {
    readonly vendorSchema: boolean;
    /** The answer's body, redacted and cut (to compare with what the endpoint answers a URL it does not serve). */
    readonly body?: string;
    constructor(message: string, details: ImagineErrorDetails & { vendorSchema?: boolean; body?: string } = {}) {
        super(message, details);
        this.vendorSchema = details.vendorSchema ?? true;
        this.body = details.body;
    }
}

/** 404 without the vendor's error body, or 405: this URL form or method is not served; try another. */
export class ImagineRouteNotFoundError extends ImagineError {}

/** 409: the video is busy (still processing) and the operation must wait for the job to end. */
export class ImagineConflictError extends ImagineError {}

/** 429 / code 1202: too many requests. `retryAfterMs` is the server's Retry-After, when it sent one. */
export class ImagineRateLimitError extends ImagineError {
    readonly retryAfterMs?: number;
    constructor(message: string, details: ImagineErrorDetails & { retryAfterMs?: number }) {
        super(message, details);
        this.retryAfterMs = details.retryAfterMs;
    }
}

/** 5xx (codes 1200/1201 or a plain proxy error page): the vendor failed; retried when safe. */
export class ImagineServerError extends ImagineError {}

/**
 * No usable HTTP answer: refused, reset, timed out, DNS failure, or a 2xx body that is not the
 * expected JSON. `requestMayHaveArrived` is false only when the request surely never reached the
 * server (connection refused, DNS failure): only then is a non-idempotent request safe to repeat.
 */
export class ImagineConnectionError extends ImagineError {
    readonly requestMayHaveArrived: boolean;
    constructor(message: string, details: ImagineErrorDetails & { requestMayHaveArrived: boolean }) {
        super(message, details);
        this.requestMayHaveArrived = details.requestMayHaveArrived;
    }
}

/** A wait (for a generation to end, or for a retried request to succeed) ran past its deadline. */
export class ImagineTimeoutError extends ImagineError {}

/**
 * A generation request failed in a way that may hide a video the vendor accepted (the answer was
 * lost: reset, timeout, a 500). It is not repeated, since that could pay for a second video; the
 * message says how to find and adopt a stray video.
 */
export class ImagineGenerationUncertainError extends ImagineError {}

/** A 2xx answer that is not the vendor's JSON: most often `imagine:baseUrl` points at another server. */
export class ImagineProtocolError extends ImagineError {}

/**
 * The vendor acknowledged a delete, but the video (its file or its status) was still there when
 * `imagine:deleteTimeoutMinutes` ran out, the delete re-sent with backoff meanwhile. The resource
 * stays in state, so the next `pulumi destroy` tries again.
 */
export class ImagineDeleteNotConfirmedError extends ImagineError {}

/**
 * Raised before an image upload is sent when the file at `imagePath` is no longer the one `check`
 * recorded (another size, type or digest): nothing is uploaded, nothing is paid.
 */
export class ImagineImageChangedError extends ImagineError {}

/**
 * Raised by destroy when the vendor says a video does not exist but the current API key is not the
 * key that made (or adopted) it: the 404 proves nothing, so the video stays in the stack.
 */
export class ImagineOtherKeyError extends ImagineError {}

/**
 * Raised by destroy when a video was made at another endpoint than the current `imagine:baseUrl` and this
 * one says it does not exist (or cannot show that its 404 is about the video): the video stays in the stack.
 */
export class ImagineOtherEndpointError extends ImagineError {}
