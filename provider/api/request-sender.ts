/** RequestSender: the one class that owns HTTP to the Imagine API (headers, timeouts, retries, budget). */
import axios, { AxiosInstance, AxiosResponse } from "axios";
import { getProxyForUrl } from "proxy-from-env";
import { longRetryAfterError, MAX_WAIT_MS, Priority, RequestBudget } from "../budget/budget";
import { Clock, systemClock } from "../core/clock";
import {
    ImagineConnectionError,
    ImagineError,
    ImagineProtocolError,
    ImagineRateLimitError,
    ImagineTimeoutError,
} from "../core/errors";
import { asVendorError, errorFromResponse, excerpt, parseJson } from "./responses";
import { BackoffPolicy, decideRetry, defaultBackoff } from "./retry";

export interface RequestSenderOptions {
    baseUrl: string;
    token: string;
    /** Per-attempt timeout. */
    requestTimeoutMs: number;
    clock?: Clock;
    backoff?: BackoffPolicy;
    random?: () => number;
    /** The key's shared request budget: every attempt waits for it. */
    budget?: RequestBudget;
    /** Told about each retry, for logs. Gets no headers, so never the token. */
    onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: ImagineError }) => void;
}

export interface SendRequest {
    method: "GET" | "POST" | "DELETE";
    /** Path below the base URL, e.g. `/v2/video/abc/status`. */
    path: string;
    /**
     * The multipart body, or a function that builds it: called only when the attempt is sent (after
     * the budget let it through), so a queued request holds no upload bytes. It may throw an
     * ImagineError to stop the request before anything is sent.
     */
    form?: FormData | (() => Promise<FormData>);
    /** Whether repeating the request after an ambiguous failure is harmless. */
    idempotent: boolean;
    /** Absolute time (clock ms) after which no further attempt is started, moved out by the time spent waiting for the budget. */
    deadlineMs: number;
    /** Creations and deletes are `high`: they pass status polls in the budget's queue. */
    priority: Priority;
}

const NEVER_REACHED = new Set([
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EAI_NONAME",
    "EAI_FAIL",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ERR_INVALID_URL",
]);
const DNS_FAILURES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL"]);

/**
 * A TLS handshake that failed (certificate not trusted, expired, for another name, or a protocol
 * mismatch): the request is only written after the handshake, so it never left the machine.
 */
function isTlsFailure(code: string): boolean {
    return /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|HOSTNAME_MISMATCH|ERR_OSSL_)/.test(
        code,
    );
}

/** Removes what must never reach a message: the token (and any bearer credential), and signed URLs' queries. */
export function redactSecrets(text: string, token: string): string {
    const withoutToken = token ? text.split(token).join("[redacted]") : text;
    return withoutToken
        .replace(/(Bearer\s+)[^\s"'<>,;]+/gi, "$1[redacted]")
        .replace(/(https?:\/\/[^\s"'<>?]+)\?[^\s"'<>]*/gi, "$1?[signed query redacted]");
}
/**
 * The one place that talks HTTP to the Imagine API: headers, timeouts, retries within a deadline,
 * and the mapping of every answer to a typed error. Nothing it throws carries request headers.
 */
export class RequestSender {
    private readonly http: AxiosInstance;
    private readonly clock: Clock;
    private readonly backoff: BackoffPolicy;
    private readonly random: () => number;
    /** The proxy the standard variables choose for the base URL (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), shown without credentials. */
    readonly proxy?: string;

    constructor(private readonly options: RequestSenderOptions) {
        this.clock = options.clock ?? systemClock;
        this.backoff = options.backoff ?? defaultBackoff;
        this.random = options.random ?? Math.random;
        this.proxy = proxyFor(options.baseUrl);
        this.http = axios.create({
            baseURL: options.baseUrl.replace(/\/+$/, ""),
            timeout: options.requestTimeoutMs,
            headers: { Authorization: `Bearer ${options.token}`, Accept: "application/json" },
            responseType: "text",
            transformResponse: [(data: unknown) => data],
            validateStatus: () => true,
            maxRedirects: 0,
            // No `proxy` option: axios reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY (through proxy-from-env)
            // for each request, tunnelling https through the proxy with CONNECT.
        });
    }

    /**
     * Sends with retries; resolves with the parsed JSON body of a 2xx answer. The deadline counts
     * the vendor's time, not our queue's: it moves out by every wait for the request budget, so a
     * request never gives up because it waited its turn behind the key's other requests.
     */
    async send(req: SendRequest): Promise<unknown> {
        const operation = `${req.method} ${req.path}`;
        let queuedMs = 0;
        for (let attempt = 0; ; attempt++) {
            let error: ImagineError;
            const budget = this.options.budget;
            if (budget) {
                // Fails (never hangs) past imagine:queueTimeoutMinutes, or while a long Retry-After runs.
                const queuedAt = this.clock.now();
                await budget.acquire(req.priority);
                queuedMs += this.clock.now() - queuedAt;
            }
            try {
                const body = await this.attempt(req, operation);
                budget?.onSuccess();
                return body;
            } catch (e) {
                error = e as ImagineError;
            }
            if (error instanceof ImagineRateLimitError) {
                budget?.onThrottled(error.retryAfterMs);
                if ((error.retryAfterMs ?? 0) > MAX_WAIT_MS) {
                    // Not obeyed as a pause: fail now, naming the wait the vendor asked for.
                    throw longRetryAfterError(error.retryAfterMs!, this.clock.now() + error.retryAfterMs!, operation);
                }
            }
            // Under a budget, a 429 is congestion the budget itself paces out (a pause of Retry-After
            // for every request, a lower rate): the retry waits Retry-After and its turn, without a
            // backoff growing per request, which would only leave the budget's slots unused.
            const backoffAttempt = budget && error instanceof ImagineRateLimitError ? 0 : attempt;
            const decision = decideRetry(error, backoffAttempt, req.idempotent, this.backoff, this.random);
            if (!decision.retry) {
                throw error;
            }
            const remaining = req.deadlineMs + queuedMs - this.clock.now();
            if (decision.delayMs > remaining) {
                throw new ImagineTimeoutError(
                    `${error.message} Gave up after ${attempt + 1} attempt(s): the next retry would pass the deadline.`,
                    {
                        httpStatus: error.httpStatus,
                        vendorCode: error.vendorCode,
                        vendorMessage: error.vendorMessage,
                        operation,
                    },
                );
            }
            this.options.onRetry?.({ operation, attempt: attempt + 1, delayMs: decision.delayMs, error });
            await this.clock.sleep(decision.delayMs);
        }
    }

    /** The endpoint as configured (it holds no credential), for messages. */
    get baseUrl(): string {
        return this.options.baseUrl;
    }

    /** Strips the API token (and signed URL queries) out of any text that may reach a user. */
    redact(text: string): string {
        return redactSecrets(text, this.options.token);
    }

    private async attempt(req: SendRequest, operation: string): Promise<unknown> {
        // Built now, not while queued: an upload's bytes are read only when it is sent.
        const form = typeof req.form === "function" ? await req.form() : req.form;
        let response: AxiosResponse<string>;
        try {
            response = await this.http.request<string>({
                method: req.method,
                url: req.path,
                data: form,
                // A request without a form has no body: send no Content-Type (axios would add one to a POST).
                headers: form ? undefined : { "Content-Type": null },
            });
        } catch (e) {
            throw this.connectionError(e, operation);
        }
        const raw = typeof response.data === "string" ? response.data : "";
        const retryAfter = headerValue(response.headers["retry-after"]);
        if (response.status < 200 || response.status >= 300) {
            throw errorFromResponse(response.status, raw, retryAfter, operation, this.clock.now(), (t) =>
                this.redact(t),
            );
        }
        const body = parseJson(raw);
        if (asVendorError(body)) {
            throw errorFromResponse(response.status, raw, retryAfter, operation, this.clock.now(), (t) =>
                this.redact(t),
            );
        }
        if (typeof body !== "object" || body === null) {
            throw new ImagineProtocolError(
                `${operation}: ${this.options.baseUrl} answered HTTP ${response.status} with a body that is not ` +
                    "the Imagine API's JSON. Check imagine:baseUrl (or IMAGINE_BASE_URL): it should be https://api.vyro.ai.",
                { httpStatus: response.status, operation },
            );
        }
        return body;
    }

    /** Builds our error from an axios failure without keeping the axios error (it holds the headers). */
    private connectionError(e: unknown, operation: string): ImagineConnectionError {
        const raw = (e as { code?: unknown }).code ?? (e as { cause?: { code?: unknown } }).cause?.code;
        const code = typeof raw === "string" ? raw : "";
        const reason = excerpt((e as { message?: string }).message ?? String(e), (t) => this.redact(t), 200);
        const timedOut = code === "ECONNABORTED" || code === "ETIMEDOUT";
        const via = this.proxy ? ` through the proxy ${this.proxy}` : "";
        const what = timedOut
            ? `no answer within ${Math.round(this.options.requestTimeoutMs / 1000)} s`
            : `${code || "network error"}: ${reason}`;
        const problem = `${operation}: could not get an answer from the Imagine API at ${this.options.baseUrl}${via} (${what}).`;
        if (isTlsFailure(code)) {
            return new ImagineConnectionError(
                `${operation}: the TLS certificate of ${this.options.baseUrl} was not accepted (${what}); the request was not sent. ` +
                    "Check imagine:baseUrl (or IMAGINE_BASE_URL); behind a proxy that inspects TLS, give Node its CA with NODE_EXTRA_CA_CERTS.",
                { operation, problem, requestMayHaveArrived: false },
            );
        }
        if (DNS_FAILURES.has(code)) {
            return new ImagineConnectionError(
                `${operation}: the host of ${this.options.baseUrl} could not be resolved (${what}); the request was not sent. ` +
                    "Check imagine:baseUrl (or IMAGINE_BASE_URL), DNS, and HTTPS_PROXY if a proxy is needed to reach the internet.",
                { operation, problem, requestMayHaveArrived: false },
            );
        }
        return new ImagineConnectionError(
            `${problem} Check imagine:baseUrl (or IMAGINE_BASE_URL) and the network${this.proxy ? " (and the proxy variables HTTPS_PROXY, HTTP_PROXY, NO_PROXY)" : ""}; the command can be run again.`,
            { operation, problem, requestMayHaveArrived: !NEVER_REACHED.has(code) },
        );
    }
}

function headerValue(v: unknown): string | undefined {
    return typeof v === "string" ? v : Array.isArray(v) ? String(v[0]) : undefined;
}

/** The proxy URL (scheme, host, port; never credentials) that the standard variables choose for `url`, if any. */
function proxyFor(url: string): string | undefined {
    const proxy = getProxyForUrl(url);
    if (!proxy) {
        return undefined;
    }
    try {
        const u = new URL(proxy);
        return `${u.protocol}//${u.host}`;
    } catch {
        return "(unparseable proxy URL)";
    }
}
