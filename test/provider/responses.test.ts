/** Mapping the vendor's answers (error bodies, codes, non-JSON pages, Retry-After) to typed errors. */
import {
    ImagineAuthError,
    ImagineConflictError,
    ImagineCreditsError,
    ImagineInvalidRequestError,
    ImagineRateLimitError,
    ImagineRouteNotFoundError,
    ImagineServerError,
    ImagineVideoNotFoundError,
} from "../../provider/core/errors";
import { errorFromResponse, parseRetryAfter } from "../../provider/api/responses";

const TOKEN = "vk-canaryTOKEN0123456789abcdefghijklmnopqrstuvwxyzAB";
const redact = (t: string) => t.split(TOKEN).join("[redacted]");
const body = (code: number | string, error: string, message: string) =>
    JSON.stringify({ status: "error", code, error, message });
const map = (status: number, raw: string, retryAfter?: string) =>
    errorFromResponse(status, raw, retryAfter, "POST /v2/x", 0, redact);

describe("errorFromResponse", () => {
    it.each([
        [400, 1000, ImagineAuthError],
        [401, 1001, ImagineAuthError],
        [406, 1002, ImagineAuthError],
        [401, 1005, ImagineAuthError],
        [401, 1208, ImagineAuthError],
        [400, 1100, ImagineInvalidRequestError],
        [400, 1103, ImagineInvalidRequestError],
        [402, 1101, ImagineCreditsError],
        [503, 1200, ImagineServerError],
        [503, 1201, ImagineServerError],
        [429, 1202, ImagineRateLimitError],
        [404, 1104, ImagineVideoNotFoundError],
        [409, 1100, ImagineConflictError],
        [413, 1100, ImagineInvalidRequestError],
    ])("HTTP %i with code %i is %p, whether code is a number or a string", (status, code, cls) => {
        expect(map(status, body(code, "E", "m"))).toBeInstanceOf(cls);
        const fromString = map(status, body(String(code), "E", "m"));
        expect(fromString).toBeInstanceOf(cls);
        expect(fromString.vendorCode).toBe(code);
    });

    it("tells a missing route (404 without the vendor body) from a missing video", () => {
        expect(
            map(404, JSON.stringify({ message: "Route GET:/x not found", error: "Not Found", statusCode: 404 })),
        ).toBeInstanceOf(ImagineRouteNotFoundError);
        expect(map(405, "")).toBeInstanceOf(ImagineRouteNotFoundError);
    });

    it("gives a clear error for a body that is not JSON", () => {
        const e = map(500, "<html><body><h1>500 Internal Server Error</h1></body></html>");
        expect(e).toBeInstanceOf(ImagineServerError);
        expect(e.message).toContain("HTTP 500");
        expect(e.message).toContain("500 Internal Server Error");
    });

    it("says how to fix a token problem, naming both ways to set it", () => {
        const e = map(401, body(1001, "Unauthorized", "token invalid"));
        expect(e.message).toContain("imagine:apiToken");
        expect(e.message).toContain("IMAGINE_API_TOKEN");
    });

    it("keeps the token out of the message even when the vendor echoes it", () => {
        const e = map(401, body(1001, "Unauthorized", `token ${TOKEN} is invalid`));
        expect(e.message).not.toContain(TOKEN);
        expect(e.vendorMessage).not.toContain(TOKEN);
        expect(e.message).toContain("[redacted]");
    });

    it("reads Retry-After in seconds or as a date", () => {
        expect(
            (map(429, body(1202, "Too Many Requests", "slow down"), "7") as ImagineRateLimitError).retryAfterMs,
        ).toBe(7000);
        expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
        expect(parseRetryAfter("soon", 0)).toBeUndefined();
    });
});
