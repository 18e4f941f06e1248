/**
 * The retry loop on an injected clock, against the emulator over HTTP: the pauses are asserted in
 * milliseconds while the test itself takes well under a second of real time.
 */
import { RequestBudget } from "../../provider/budget/budget";
import { ImagineTimeoutError, ImagineVideoNotFoundError } from "../../provider/core/errors";
import { RequestSender } from "../../provider/api/request-sender";
import { FakeClock } from "./fake-clock";
import { Harness, startHarness, TOKEN } from "./harness";

let h: Harness;
beforeAll(async () => {
    h = await startHarness();
});
afterAll(async () => h.stop());

function sender(clock: FakeClock, retries: unknown[] = [], budget?: RequestBudget) {
    return new RequestSender({
        budget,
        baseUrl: h.emulator.url,
        token: TOKEN,
        requestTimeoutMs: 5000,
        clock,
        backoff: { baseDelayMs: 100, maxDelayMs: 400 },
        random: () => 1,
        onRetry: (info) => retries.push(info),
    });
}

/** The error a request ends with (the test fails if it succeeds). */
const failure = (p: Promise<unknown>): Promise<Error> =>
    p.then(
        () => {
            throw new Error("expected the request to fail");
        },
        (e: Error) => e,
    );

const status = (deadlineMs: number) => ({
    method: "GET" as const,
    path: "/v2/video/none/status",
    idempotent: true,
    deadlineMs,
    priority: "low" as const,
});

it("waits at least Retry-After (1 s) between attempts on 429, above its own backoff, until the deadline", async () => {
    h.emulator.configure({ fault429: 1 });
    const clock = new FakeClock();
    const retries: unknown[] = [];
    const err = await failure(sender(clock, retries).send(status(clock.now() + 3500)));
    h.emulator.configure({ fault429: 0 });
    expect(err).toBeInstanceOf(ImagineTimeoutError);
    expect(err.message).toContain("rate limited");
    expect(err.message).toContain("the next retry would pass the deadline");
    // Backoff alone would be 100, 200, 400 ms: Retry-After lifts each pause to 1 s; 3 pauses fit in 3.5 s.
    expect(clock.sleeps).toEqual([1000, 1000, 1000]);
    expect(retries).toHaveLength(3);
});

it("backs off exponentially (capped) on 503 while it lasts, then returns the answer", async () => {
    const clock = new FakeClock();
    const s = sender(clock);
    h.emulator.configure({ fault503: 1 });
    let sleeps = 0;
    const origSleep = clock.sleep.bind(clock);
    clock.sleep = async (ms: number) => {
        await origSleep(ms);
        if (++sleeps === 4) h.emulator.configure({ fault503: 0 });
    };
    const err = await failure(s.send(status(clock.now() + 60_000)));
    // After the fault stops, the answer is the vendor's own 404 for an unknown video.
    expect(err.name).toBe("ImagineVideoNotFoundError");
    expect(clock.sleeps).toEqual([100, 200, 400, 400]);
});

it("does not retry a generation after a 500 (it may have been accepted), but does after a 429", async () => {
    const clock = new FakeClock();
    const form = () => {
        const f = new FormData();
        f.append("prompt", "p");
        f.append("style", "fast-svd");
        return f;
    };
    const create = {
        method: "POST" as const,
        path: "/v2/video/text-to-video",
        idempotent: false,
        deadlineMs: clock.now() + 60_000,
        priority: "high" as const,
    };
    h.emulator.configure({ fault500: 1 });
    const err = await failure(sender(clock).send({ ...create, form: form() }));
    expect(err.name).toBe("ImagineServerError");
    expect(clock.sleeps).toEqual([]);
    h.emulator.configure({ fault500: 0, fault429: 1 });
    const limited = await failure(sender(clock).send({ ...create, form: form(), deadlineMs: clock.now() + 1500 }));
    h.emulator.configure({ fault429: 0 });
    expect(limited).toBeInstanceOf(ImagineTimeoutError);
    expect(clock.sleeps).toEqual([1000]);
});

it("does not count the time a request waited for the budget against its deadline", async () => {
    const clock = new FakeClock();
    const budget = new RequestBudget(1, clock); // one request a minute (63 s paced)
    await budget.acquire("high"); // another request of the key took this minute's turn
    h.emulator.configure({ fault503: 1 });
    const retries: unknown[] = [];
    const s = new RequestSender({
        baseUrl: h.emulator.url,
        token: TOKEN,
        requestTimeoutMs: 5000,
        clock,
        budget,
        backoff: { baseDelayMs: 100, maxDelayMs: 400 },
        random: () => 1,
        // The vendor recovers after the first refusal.
        onRetry: (info) => {
            retries.push(info);
            h.emulator.configure({ fault503: 0 });
        },
    });
    const start = clock.now();
    // 10 s of deadline, but a minute in the queue before each attempt: the vendor's answer still arrives.
    const err = await failure(s.send(status(start + 10_000)));
    h.emulator.configure({ fault503: 0 });
    expect(err).toBeInstanceOf(ImagineVideoNotFoundError);
    expect(retries).toHaveLength(1);
    expect(clock.now() - start).toBeGreaterThan(2 * 60_000);
});

it("still bounds the time spent retrying the vendor when a budget paces the attempts", async () => {
    const clock = new FakeClock();
    const budget = new RequestBudget(60, clock); // one a second: a queue wait before every retry
    h.emulator.configure({ fault503: 1 });
    const err = await failure(sender(clock, [], budget).send(status(clock.now() + 3500)));
    h.emulator.configure({ fault503: 0 });
    expect(err).toBeInstanceOf(ImagineTimeoutError);
    expect(err.message).toContain("the next retry would pass the deadline");
});
