/** Reading the vendor's answers: JSON bodies, error bodies, Retry-After, and the typed error of a failed answer. */
import {
    ImagineAuthError,
    ImagineConflictError,
    ImagineCreditsError,
    ImagineError,
    ImagineErrorDetails,
    ImagineInvalidRequestError,
    ImagineRateLimitError,
    ImagineRouteNotFoundError,
    ImagineServerError,
    ImagineVideoNotFoundError,
} from "../core/errors";

/** The vendor's error body: `{"status":"error","code":1001,"error":"Unauthorized","message":"..."}`. */
export interface VendorErrorBody {
    status: "error";
    code?: number;
    error?: string;
    message?: string;
}

/**
 * Parses a response body as JSON; undefined when it is not JSON (an HTML proxy page, say). Integers
 * too large for a double (beyond 2^53) are kept as their text, so an id like 9007199254740993 is
 * not rounded to another video's id.
 */
export function parseJson(raw: string): unknown {
    if (raw.trim() === "") {
        return undefined;
    }
    try {
        return JSON.parse(quoteLargeIntegers(raw));
    } catch {
        return undefined;
    }
}

/**
 * Puts quotes around every integer literal of 16 or more digits outside JSON strings. A scan, not a
 * regex, so digits inside strings are never touched; invalid JSON stays invalid.
 */
function quoteLargeIntegers(raw: string): string {
    if (!/\d{16}/.test(raw)) {
        return raw;
    }
    let out = "";
    let i = 0;
    while (i < raw.length) {
        const c = raw[i];
        if (c === '"') {
            let j = i + 1;
            while (j < raw.length && raw[j] !== '"') {
                j += raw[j] === "\\" ? 2 : 1;
            }
            out += raw.slice(i, j + 1);
            i = j + 1;
        } else if (c === "-" || (c >= "0" && c <= "9")) {
            const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(raw.slice(i, i + 400));
            const token = m ? m[0] : c;
            const digits = token.replace(/^-/, "");
            out +=
                m && !m[1] && !m[2] && digits.length >= 16 && !Number.isSafeInteger(Number(token))
                    ? `"${token}"`
                    : token;
            i += token.length;
        } else {
            out += c;
            i++;
        }
    }
    return out;
}

/** Maximum characters of response text quoted in a message. */
export const EXCERPT_CHARS = 120;

/**
 * Response text fit for a message: secrets removed FIRST (on the whole text, so a cut cannot leave a
 * prefix of the token behind), then tags stripped, whitespace collapsed, and cut to `max` characters.
 */
export function excerpt(text: string, redact: (text: string) => string, max = EXCERPT_CHARS): string {
    const clean = redact(text)
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " ")
        .trim();
    return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/**
 * The vendor's error body, if `body` is one. `code` is an integer on the error page and a quoted
 * string on the model pages: both parse to a number.
 */
export function asVendorError(body: unknown): VendorErrorBody | undefined {
    if (typeof body !== "object" || body === null) {
        return undefined;
    }
    const b = body as Record<string, unknown>;
    if (b.status !== "error") {
        return undefined;
    }
    const code = typeof b.code === "number" ? b.code : typeof b.code === "string" ? Number(b.code) : NaN;
    return {
        status: "error",
        code: Number.isFinite(code) ? code : undefined,
        error: typeof b.error === "string" ? b.error : undefined,
        message: typeof b.message === "string" ? b.message : undefined,
    };
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
    if (value === undefined || value.trim() === "") {
        return undefined;
    }
    const seconds = Number(value);
    if (Number.isFinite(seconds)) {
        return Math.max(0, seconds * 1000);
    }
    const date = Date.parse(value);
    return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

const AUTH_CODES = new Set([1000, 1001, 1002, 1005, 1006, 1007, 1208]);
const TOKEN_FIX =
    "Set a valid API key with `pulumi config set --secret imagine:apiToken <key>` " +
    "or the IMAGINE_API_TOKEN environment variable.";

/**
 * Maps a non-2xx answer (or a 2xx whose body says `"status":"error"`) to the typed error a user
 * sees. `operation` is "METHOD /path"; `redact` strips the API token from any vendor text.
 */
export function errorFromResponse(
    httpStatus: number,
    rawBody: string,
    retryAfter: string | undefined,
    operation: string,
    nowMs: number,
    redact: (text: string) => string,
): ImagineError {
    const json = parseJson(rawBody);
    const vendor = asVendorError(json);
    const vendorMessage = vendor
        ? excerpt([vendor.error, vendor.message].filter(Boolean).join(": "), redact, 300) || undefined
        : undefined;
    const details: ImagineErrorDetails = { httpStatus, vendorCode: vendor?.code, vendorMessage, operation };
    const said = describe(httpStatus, vendor?.code, vendorMessage, rawBody, redact);
    const code = vendor?.code;

    if (httpStatus === 429 || code === 1202) {
        return new ImagineRateLimitError(`${operation}: rate limited by the Imagine API (${said}).`, {
            ...details,
            retryAfterMs: parseRetryAfter(retryAfter, nowMs),
        });
    }
    if (httpStatus === 402 || code === 1101) {
        return new ImagineCreditsError(
            `${operation}: the Imagine account has not enough credits (${said}). ` +
                "Top up the account's tokens, then run the command again.",
            details,
        );
    }
    if (
        httpStatus === 401 ||
        httpStatus === 403 ||
        httpStatus === 406 ||
        (code !== undefined && AUTH_CODES.has(code))
    ) {
        const what =
            code === 1002 || httpStatus === 406
                ? "expired"
                : httpStatus === 403
                  ? "not allowed to do this"
                  : "missing or not valid";
        return new ImagineAuthError(
            `${operation}: the Imagine API says the API token is ${what} (${said}). ${TOKEN_FIX}`,
            details,
        );
    }
    if (httpStatus === 404) {
        // The vendor's body, or JSON that is about something other than a route (`{"detail": "Video
        // not found"}`), answers about the video. Not JSON, or JSON saying the route is missing: the URL form is not served.
        const aboutVideo =
            vendor !== undefined || (typeof json === "object" && json !== null && !saysRouteMissing(rawBody));
        return aboutVideo
            ? new ImagineVideoNotFoundError(`${operation}: no such video for this API key (${said}).`, {
                  ...details,
                  vendorSchema: vendor !== undefined,
                  body: excerpt(rawBody, redact, 300),
              })
            : new ImagineRouteNotFoundError(
                  `${operation}: the server does not serve this URL (${said}). ` +
                      "Check imagine:baseUrl (or IMAGINE_BASE_URL): it should be https://api.vyro.ai.",
                  details,
              );
    }
    if (httpStatus === 405) {
        return new ImagineRouteNotFoundError(`${operation}: method not allowed (${said}).`, details);
    }
    if (httpStatus === 409) {
        return new ImagineConflictError(`${operation}: the video is busy (${said}).`, details);
    }
    if (httpStatus >= 500 || code === 1200 || code === 1201) {
        const problem = `${operation}: the Imagine API failed (${said}).`;
        return new ImagineServerError(`${problem} This is on the vendor's side; run the command again later.`, {
            ...details,
            problem,
        });
    }
    if (httpStatus === 413) {
        return new ImagineInvalidRequestError(
            `${operation}: the Imagine API rejected the upload as too large (${said}). Use a smaller image.`,
            details,
        );
    }
    return new ImagineInvalidRequestError(
        `${operation}: the Imagine API rejected the request (${said}).${generationHint(operation, vendor?.code, vendorMessage)}`,
        details,
    );
}

/** What web frameworks say when no route matches (fastify, express, a gateway), not a missing record. */
function saysRouteMissing(rawBody: string): boolean {
    return /\broute\b|cannot (get|post|delete|put)\b|\b(endpoint|path|url|resource path)\b.{0,40}not (found|exist)|no (such )?(route|endpoint|handler)|not a valid (path|endpoint)/i.test(
        rawBody,
    );
}

/** Vendor words (form fields) and the Video input a user changes to fix them, with the fix. */
const INPUT_FIXES: [RegExp, string][] = [
    [
        /\bstyle/i,
        'check the Video input `style`: use a style the Imagine API offers, e.g. "kling-1.0-pro" or "fast-svd".',
    ],
    [/aspect[_ ]?ratio/i, "check the Video input `aspectRatio`: use one of 1:1, 16:9, 9:16."],
    [/\bprompt/i, "check the Video input `prompt`: 1-2,500 characters."],
    [/\b(file|image)\b/i, "check the Video input `imagePath`: a JPEG or PNG of at most 10 MiB."],
];

/**
 * For a refused generation, the input to fix: the one the vendor's message names (code 1103 is a
 * missing style), else every input that reaches the form. Empty for other operations.
 */
function generationHint(operation: string, code: number | undefined, vendorMessage: string | undefined): string {
    if (!/\/v2\/video\/(text|image)-to-video$/.test(operation)) {
        return "";
    }
    const text = code === 1103 ? "style" : (vendorMessage ?? "");
    const fix = INPUT_FIXES.find(([re]) => re.test(text));
    return fix
        ? ` The vendor's message names a field: ${fix[1]}`
        : " Check the Video inputs prompt, style, aspectRatio, imagePath and extraParams.";
}

function describe(
    httpStatus: number,
    code: number | undefined,
    vendorMessage: string | undefined,
    rawBody: string,
    redact: (text: string) => string,
): string {
    const parts = [`HTTP ${httpStatus}`];
    if (code !== undefined) {
        parts.push(`code ${code}`);
    }
    if (vendorMessage) {
        parts.push(vendorMessage);
    } else if (rawBody.trim() !== "") {
        const snippet = excerpt(rawBody, redact);
        parts.push(snippet ? `body that is not the vendor's JSON: "${snippet}"` : "body that is not JSON");
    }
    return parts.join(", ");
}
