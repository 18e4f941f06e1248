/** The pure retry decision: what is repeated, what never is (a generation after an ambiguous failure), and the delays. */
import {
    ImagineAuthError,
    ImagineConnectionError,
    ImagineCreditsError,
    ImagineInvalidRequestError,
    ImagineRateLimitError,
    ImagineServerError,
    ImagineVideoNotFoundError,
} from "../../provider/core/errors";
import { decideRetry } from "../../provider/api/retry";

const policy = { baseDelayMs: 1000, maxDelayMs: 8000 };

describe("decideRetry", () => {
    it("retries 429 and 503 even for a generation (the vendor refused the request)", () => {
        expect(decideRetry(new ImagineRateLimitError("x", { httpStatus: 429 }), 0, false, policy, () => 0).retry).toBe(
            true,
        );
        expect(decideRetry(new ImagineServerError("x", { httpStatus: 503 }), 0, false, policy, () => 0).retry).toBe(
            true,
        );
    });

    it("does not repeat a generation after an answer that may hide an accepted video", () => {
        expect(decideRetry(new ImagineServerError("x", { httpStatus: 500 }), 0, false, policy).retry).toBe(false);
        const reset = new ImagineConnectionError("x", { requestMayHaveArrived: true });
        expect(decideRetry(reset, 0, false, policy).retry).toBe(false);
        const refused = new ImagineConnectionError("x", { requestMayHaveArrived: false });
        expect(decideRetry(refused, 0, false, policy).retry).toBe(true);
    });

    it("gives up on an unreachable server after a few tries", () => {
        const refused = new ImagineConnectionError("x", { requestMayHaveArrived: false });
        expect([0, 1, 2, 3, 4, 5].map((a) => decideRetry(refused, a, true, policy).retry)).toEqual([
            true,
            true,
            true,
            true,
            false,
            false,
        ]);
    });

    it("repeats idempotent requests after 5xx and connection failures", () => {
        expect(decideRetry(new ImagineServerError("x", { httpStatus: 500 }), 0, true, policy).retry).toBe(true);
        expect(
            decideRetry(new ImagineConnectionError("x", { requestMayHaveArrived: true }), 0, true, policy).retry,
        ).toBe(true);
    });

    it("never retries auth, credits, invalid requests or not found", () => {
        for (const e of [
            new ImagineAuthError("x", { httpStatus: 401 }),
            new ImagineCreditsError("x", { httpStatus: 402 }),
            new ImagineInvalidRequestError("x", { httpStatus: 400 }),
            new ImagineVideoNotFoundError("x", { httpStatus: 404 }),
            new Error("plain"),
        ]) {
            expect(decideRetry(e, 0, true, policy).retry).toBe(false);
        }
    });

    it("backs off exponentially with equal jitter, capped at the maximum", () => {
        const err = new ImagineServerError("x", { httpStatus: 503 });
        const delays = [0, 1, 2, 3, 4, 5].map((a) => {
            const lo = decideRetry(err, a, true, policy, () => 0);
            const hi = decideRetry(err, a, true, policy, () => 1);
            return [lo.retry && lo.delayMs, hi.retry && hi.delayMs];
        });
        expect(delays).toEqual([
            [500, 1000],
            [1000, 2000],
            [2000, 4000],
            [4000, 8000],
            [4000, 8000],
            [4000, 8000],
        ]);
    });

    it("treats Retry-After as a floor, not a replacement", () => {
        const small = new ImagineRateLimitError("x", { httpStatus: 429, retryAfterMs: 100 });
        const large = new ImagineRateLimitError("x", { httpStatus: 429, retryAfterMs: 20000 });
        expect(decideRetry(small, 2, true, policy, () => 1)).toEqual({ retry: true, delayMs: 4000 });
        expect(decideRetry(large, 2, true, policy, () => 1)).toEqual({ retry: true, delayMs: 20000 });
    });
});
