/**
 * The onRequest hook of vendor routes, in order: added latency, injected faults, bearer token,
 * rate limit, and a 413 for uploads whose declared length is already far over the limit (answered
 * before a byte of the body is read).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { closeAfterReply } from "./connection";
import type { EmulatorContext } from "./context";
import { ERRORS, sendError } from "./errors";
import { injectFault, rollFault } from "./faults";

/** Room for the form fields around the image before a declared length counts as too large. */
export const FORM_OVERHEAD_BYTES = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function vendorGate(ctx: EmulatorContext) {
    return async function gate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
        if (!request.routeOptions.config?.vendor) return undefined;
        const s = ctx.switches;
        const format = s.codeFormat;
        if (s.latencyMs > 0) await sleep(s.latencyMs);

        const fault = rollFault(ctx);
        if (fault) return injectFault(ctx, fault, request, reply);

        const auth = ctx.tokens.check(request.headers.authorization);
        if (!auth.ok) {
            return auth.reason === "missing"
                ? sendError(reply, ERRORS.tokenMissing, "bearer token missing", format)
                : sendError(reply, ERRORS.tokenInvalid, "bearer token invalid", format);
        }
        request.owner = auth.owner;

        const rate = ctx.rateLimiter.take(auth.owner, s.rateLimitPerMinute, ctx.clock.now(), s.rateLimitBurst);
        if (!rate.allowed) {
            reply.header("retry-after", String(rate.retryAfterSec));
            return sendError(reply, ERRORS.tooManyRequests, "too many requests", format);
        }

        const declared = Number(request.headers["content-length"] ?? 0);
        if (request.method === "POST" && declared > s.maxUploadBytes + FORM_OVERHEAD_BYTES) {
            closeAfterReply(request, reply);
            return sendError(reply, ERRORS.tooLarge, `upload larger than ${s.maxUploadBytes} bytes`, format);
        }
        return undefined;
    };
}
