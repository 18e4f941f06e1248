/**
 * Vendor error bodies: {"status":"error","code":<int|string>,"error":"<short>","message":"<text>"}.
 * Codes 1000-1202 are the vendor's; 1104-1107 are the emulator's own choices for cases the vendor leaves
 * undocumented (see docs/emulator.md, "Errors and not-found").
 */
import type { FastifyReply } from "fastify";
import type { CodeFormat } from "./options";

export interface ErrorRow {
    http: number;
    code: number;
    error: string;
}

export const ERRORS = {
    tokenMissing: { http: 400, code: 1000, error: "Bad Request" },
    tokenInvalid: { http: 401, code: 1001, error: "Unauthorized" },
    invalidRequest: { http: 400, code: 1100, error: "Bad Request" },
    noCredits: { http: 402, code: 1101, error: "Payment Required" },
    styleMissing: { http: 400, code: 1103, error: "Bad Request" },
    notFound: { http: 404, code: 1104, error: "Not Found" },
    badSignature: { http: 403, code: 1105, error: "Forbidden" },
    stillProcessing: { http: 409, code: 1106, error: "Conflict" },
    methodNotAllowed: { http: 405, code: 1107, error: "Method Not Allowed" },
    tooLarge: { http: 413, code: 1100, error: "Payload Too Large" },
    unavailable: { http: 503, code: 1200, error: "Service Unavailable" },
    storeUnavailable: { http: 503, code: 1201, error: "Service Unavailable" },
    tooManyRequests: { http: 429, code: 1202, error: "Too Many Requests" },
} as const satisfies Record<string, ErrorRow>;

export function errorBody(row: ErrorRow, message: string, format: CodeFormat) {
    return { status: "error", code: format === "string" ? String(row.code) : row.code, error: row.error, message };
}

/** Sends an error body; the caller must `return reply` (or the promise) from its handler or hook. */
export function sendError(reply: FastifyReply, row: ErrorRow, message: string, format: CodeFormat): FastifyReply {
    return reply
        .code(row.http)
        .type("application/json; charset=utf-8")
        .send(errorBody(row, message, format));
}
