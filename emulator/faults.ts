/**
 * Fault injection on vendor routes, by probability: 429/1202, plain HTTP 500 (HTML proxy page),
 * 503/1200, a reset socket (no response at all) and a hang (held hangSeconds, then dropped).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { EmulatorContext } from "./context";
import { ERRORS, sendError } from "./errors";

export type FaultKind = "429" | "500" | "503" | "reset" | "hang";

/**
 * Picks at most one fault for this request with a single roll, so each kind happens with exactly its
 * own probability (as long as they add up to at most 1; past that, the kinds listed last get the rest).
 */
export function rollFault(ctx: EmulatorContext, random: () => number = ctx.random): FaultKind | undefined {
    const s = ctx.switches;
    const table: [FaultKind, number][] = [
        ["reset", s.faultReset],
        ["hang", s.faultHang],
        ["500", s.fault500],
        ["503", s.fault503],
        ["429", s.fault429],
    ];
    if (table.every(([, p]) => p === 0)) return undefined;
    const roll = random();
    let threshold = 0;
    for (const [kind, probability] of table) {
        threshold += probability;
        if (probability > 0 && roll < threshold) return kind;
    }
    return undefined;
}

/** Answers (or drops) the request with the fault; the caller returns the reply from its hook. */
export function injectFault(
    ctx: EmulatorContext,
    kind: FaultKind,
    request: FastifyRequest,
    reply: FastifyReply,
): FastifyReply {
    const format = ctx.switches.codeFormat;
    switch (kind) {
        case "429":
            reply.header("retry-after", "1");
            return sendError(reply, ERRORS.tooManyRequests, "too many requests, retry later", format);
        case "503":
            return sendError(reply, ERRORS.unavailable, "service not available", format);
        case "500":
            return reply
                .code(500)
                .type("text/html")
                .send("<html><body><h1>500 Internal Server Error</h1></body></html>");
        case "reset":
            request.dropped = "reset";
            ctx.requests.record(request.method, request.routeOptions.url ?? "*", "reset");
            reply.hijack();
            request.raw.socket.destroy();
            return reply;
        case "hang": {
            request.dropped = "hang";
            ctx.requests.record(request.method, request.routeOptions.url ?? "*", "hang");
            reply.hijack();
            const timer = setTimeout(() => {
                ctx.hangTimers.delete(timer);
                request.raw.socket.destroy();
            }, ctx.switches.hangSeconds * 1000);
            ctx.hangTimers.add(timer);
            request.raw.socket.once("close", () => {
                clearTimeout(timer);
                ctx.hangTimers.delete(timer);
            });
            return reply;
        }
    }
}
