/** waitUntil and exponentialDelays on an injected clock: pauses, deadline, named timeout. */
import { ImagineTimeoutError } from "../../provider/core/errors";
import { exponentialDelays, waitUntil } from "../../provider/polling/waiter";
import { FakeClock } from "./fake-clock";

describe("waitUntil", () => {
    it("waits the initial delay, then pauses that grow from min to max", async () => {
        const clock = new FakeClock();
        let checks = 0;
        const value = await waitUntil(async () => (++checks === 7 ? { done: true, value: "ok" } : { done: false }), {
            delayMs: exponentialDelays({ minDelayMs: 100, maxDelayMs: 1000, initialDelayMs: 300 }, () => 1),
            deadlineMs: clock.now() + 60_000,
            clock,
            description: "x",
        });
        expect(value).toBe("ok");
        expect(clock.sleeps).toEqual([300, 100, 200, 400, 800, 1000, 1000]);
    });

    it("jitters each pause between the minimum and the current cap", () => {
        const opts = { minDelayMs: 100, maxDelayMs: 1000 };
        expect(exponentialDelays(opts, () => 0)(4)).toBe(100);
        expect(exponentialDelays(opts, () => 0.5)(4)).toBe(450);
        expect(exponentialDelays(opts, () => 1)(4)).toBe(800);
    });

    it("never sleeps past the deadline and then fails with a named timeout", async () => {
        const clock = new FakeClock();
        const start = clock.now();
        const p = waitUntil(async () => ({ done: false, progress: "processing" }), {
            delayMs: () => 400,
            deadlineMs: start + 1000,
            clock,
            description: "video v1 to finish",
        });
        await expect(p).rejects.toBeInstanceOf(ImagineTimeoutError);
        await expect(p).rejects.toThrow(
            "gave up waiting for video v1 to finish: the deadline passed (last status: processing).",
        );
        expect(clock.sleeps).toEqual([400, 400, 200]);
        expect(clock.now()).toBe(start + 1000);
    });

    it("tells of each pause before it starts, capped at the deadline", async () => {
        const clock = new FakeClock();
        const pauses: [number, number][] = [];
        let checks = 0;
        await expect(
            waitUntil(async () => (++checks === 3 ? { done: true, value: 1 } : { done: false }), {
                delayMs: () => 400,
                deadlineMs: clock.now() + 1000,
                clock,
                description: "x",
                onPause: (ms, attempt) => pauses.push([ms, attempt]),
            }),
        ).resolves.toBe(1);
        expect(pauses).toEqual([
            [400, 0],
            [400, 1],
            [200, 2],
        ]);
    });

    it("ends the wait at once when a check throws", async () => {
        const clock = new FakeClock();
        const p = waitUntil(
            async () => {
                throw new Error("boom");
            },
            {
                delayMs: exponentialDelays({ minDelayMs: 10, maxDelayMs: 10 }),
                deadlineMs: clock.now() + 1000,
                clock,
                description: "x",
            },
        );
        await expect(p).rejects.toThrow("boom");
        expect(clock.sleeps).toEqual([]);
    });
});
