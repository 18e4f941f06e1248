/** RequestBudget on an injected clock: pacing, burst, priorities, and slowing down after a 429. */
import {
    CALM_MS,
    DECREASE,
    LOW_EVERY,
    MAX_WAIT_MS,
    PACING,
    Priority,
    RECOVERY_MS,
    RequestBudget,
    SharedBucket,
    SharedTake,
} from "../../provider/budget/budget";
import { ImagineRateLimitError, ImagineTimeoutError } from "../../provider/core/errors";
import { FakeClock } from "./fake-clock";

describe("RequestBudget", () => {
    it("paces requests just under the configured rate after a burst of one second's worth", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(600, clock); // 10 a second (9.5 paced), burst 10
        const start = clock.now();
        for (let i = 0; i < 30; i++) await budget.acquire("low");
        // 10 at once, then 20 more at 1/9.5 s each.
        expect(clock.now() - start).toBeCloseTo(20_000 / 9.5, -1);
        expect(PACING).toBe(0.95);
    });

    it("serves creations and deletes before status polls when the budget is short", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(60, clock); // 1 a second, burst 1
        const order: string[] = [];
        await budget.acquire("low"); // spend the burst
        const waits = [
            budget.acquire("low").then(() => order.push("poll-1")),
            budget.acquire("low").then(() => order.push("poll-2")),
            budget.acquire("high").then(() => order.push("delete")),
            budget.acquire("low").then(() => order.push("poll-3")),
            budget.acquire("high").then(() => order.push("create")),
        ];
        await Promise.all(waits);
        expect(order).toEqual(["delete", "create", "poll-1", "poll-2", "poll-3"]);
    });

    it("on 429 pauses every request for the Retry-After, not only the refused one", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(6000, clock); // 100 a second: no pacing wait to speak of
        const start = clock.now();
        budget.onThrottled(3000);
        const granted: number[] = [];
        await Promise.all(
            [budget.acquire("high"), budget.acquire("low"), budget.acquire("high")].map((p) =>
                p.then(() => granted.push(clock.now() - start)),
            ),
        );
        expect(Math.min(...granted)).toBeGreaterThanOrEqual(3000);
        // No Retry-After: a pause of one second.
        const again = clock.now();
        budget.onThrottled();
        await budget.acquire("high");
        expect(clock.now() - again).toBeGreaterThanOrEqual(1000);
    });

    it("takes a lone 429 at full rate for noise (a pause only); congestion halves the rate once per pause; it grows back slowly", () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(1000, clock);
        expect(budget.currentPerMinute).toBeCloseTo(950);
        budget.onThrottled(1000);
        expect(budget.currentPerMinute).toBeCloseTo(950); // a lone refusal
        clock.advance(1000);
        budget.onThrottled(1000); // another within CALM_MS, after the pause: congestion
        const cut = 950 * DECREASE;
        expect(budget.currentPerMinute).toBeCloseTo(cut);
        budget.onThrottled(1000); // same pause: the same congestion, no further cut
        expect(budget.currentPerMinute).toBeCloseTo(cut);
        clock.advance(CALM_MS * 2);
        const regained = budget.currentPerMinute;
        // Slowly: 20 s give back about 3.5% of the rate (linear part plus 10% a minute of the current one).
        expect(regained).toBeGreaterThan(cut);
        expect(regained).toBeLessThan(cut * 1.05);
        budget.onThrottled(1000); // below full rate, even after a calm spell: congestion
        expect(budget.currentPerMinute).toBeCloseTo(regained * DECREASE);
        clock.advance(RECOVERY_MS);
        expect(budget.currentPerMinute).toBeCloseTo(950);
        clock.advance(CALM_MS);
        budget.onThrottled(1000); // full rate and calm again: noise
        expect(budget.currentPerMinute).toBeCloseTo(950);
    });

    it("never cuts below 5% of the configured rate", () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(1000, clock);
        for (let i = 0; i < 30; i++) {
            budget.onThrottled(1);
            clock.advance(1);
        }
        expect(budget.currentPerMinute).toBeGreaterThanOrEqual(950 * 0.05);
        expect(budget.currentPerMinute).toBeLessThan(950 * 0.05 + 1);
    });
});

/** A shared bucket that answers from a script of waits (0 = granted) and can be "down" (undefined). */
class ScriptedBucket implements SharedBucket {
    readonly takes: Record<Priority, number>[] = [];
    readonly throttles: number[] = [];
    successes = 0;
    /** While down, every take answers undefined (the store cannot be used). */
    down = false;
    constructor(private readonly replies: number[] = []) {}
    async take(waiting: Record<Priority, number>): Promise<SharedTake | undefined> {
        this.takes.push({ ...waiting });
        if (this.down) return undefined;
        const wait = this.replies.length ? this.replies.shift()! : 0;
        return wait > 0 ? { waitMs: wait } : { grant: waiting.high > 0 ? "high" : "low", waitMs: 0 };
    }
    throttled(pauseMs: number): void {
        this.throttles.push(pauseMs);
    }
    succeeded(): void {
        this.successes++;
    }
}

describe("RequestBudget with a shared bucket", () => {
    it("takes every grant from the shared bucket while it answers, waiting as long as it says", async () => {
        const clock = new FakeClock();
        const shared = new ScriptedBucket([0, 2500, 0, 700, 0]);
        const budget = new RequestBudget(60, clock, shared); // locally: 1 a second
        const start = clock.now();
        for (let i = 0; i < 3; i++) await budget.acquire("high");
        expect(clock.now() - start).toBe(3200);
        expect(budget.grants).toEqual({ shared: 3, local: 0 });
    });

    it("falls back to the local budget whenever the shared one cannot answer, and back again", async () => {
        const clock = new FakeClock();
        const shared = new ScriptedBucket();
        shared.down = true;
        const budget = new RequestBudget(60, clock, shared); // burst 1, then one per 1/0.95 s
        const start = clock.now();
        for (let i = 0; i < 3; i++) await budget.acquire("high");
        expect(budget.grants).toEqual({ shared: 0, local: 3 });
        // The local grants were paced by the local bucket: the burst, then two at 1/0.95 s.
        expect(clock.now() - start).toBeCloseTo(2000 / 0.95, -1);
        shared.down = false;
        await budget.acquire("high");
        expect(budget.grants).toEqual({ shared: 1, local: 3 });
    });

    it("tells the shared bucket what waits, by priority, and its 429s and successes", async () => {
        const clock = new FakeClock();
        const shared = new ScriptedBucket([]);
        const budget = new RequestBudget(60, clock, shared);
        await Promise.all([
            budget.acquire("high"),
            budget.acquire("high"),
            budget.acquire("high"),
            budget.acquire("low"),
        ]);
        // The first is taken as it arrives; the others queue behind it, and each take says what waits.
        expect(shared.takes).toEqual([
            { high: 1, low: 0 },
            { high: 2, low: 1 },
            { high: 1, low: 1 },
            { high: 0, low: 1 },
        ]);
        budget.onThrottled(2000);
        budget.onSuccess();
        expect(shared.throttles).toEqual([2000]);
        expect(shared.successes).toBe(1);
    });
});

describe("RequestBudget: every wait bounded, status reads keep their share", () => {
    it("while creations or deletes queue, status reads still get one grant in LOW_EVERY (at least 20%)", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(60, clock); // one a second
        const order: Priority[] = [];
        const all = [
            ...Array.from({ length: 40 }, () => budget.acquire("high").then(() => order.push("high"))),
            ...Array.from({ length: 10 }, () => budget.acquire("low").then(() => order.push("low"))),
        ];
        await Promise.all(all);
        const first25 = order.slice(0, 25).filter((p) => p === "low").length;
        expect(first25 / 25).toBeGreaterThanOrEqual(0.2);
        expect(LOW_EVERY).toBeLessThanOrEqual(5);
        // Creations and deletes still go first: never two status reads in a row while they wait.
        expect(order.slice(0, 40).join(",")).not.toContain("low,low");
    });

    it("a Retry-After over 60 s is not a pause: waiting and later requests fail at once, naming the wait", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(60, clock);
        await budget.acquire("high"); // spend the burst
        const waiting = [budget.acquire("high"), budget.acquire("low")].map((p) => p.catch((e: Error) => e));
        budget.onThrottled(3_600_000);
        const errors = await Promise.all(waiting);
        const later = await budget.acquire("high").catch((e: Error) => e);
        for (const e of [...errors, later]) {
            expect(e).toBeInstanceOf(ImagineRateLimitError);
            expect((e as Error).message).toMatch(/asked this API key to wait 3600 s \(Retry-After: 3600\)/);
        }
        expect(clock.sleeps.every((ms) => ms <= MAX_WAIT_MS)).toBe(true);
        clock.advance(3_600_000);
        await budget.acquire("high"); // after the vendor's wait, requests go again
    });

    it("a request queued longer than the queue timeout fails with a named timeout instead of hanging", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(1, clock, undefined, 5 * 60_000); // one a minute, 5 minutes of queue
        await budget.acquire("high");
        const results = await Promise.all(
            Array.from({ length: 10 }, () =>
                budget.acquire("high").then(
                    () => "sent",
                    (e: Error) => e,
                ),
            ),
        );
        const sent = results.filter((r) => r === "sent").length;
        expect(sent).toBeGreaterThanOrEqual(4);
        expect(sent).toBeLessThanOrEqual(6);
        const failed = results.filter((r) => r !== "sent") as Error[];
        expect(failed.length).toBe(10 - sent);
        for (const e of failed) {
            expect(e).toBeInstanceOf(ImagineTimeoutError);
            expect(e.message).toContain("imagine:queueTimeoutMinutes");
        }
        expect(clock.sleeps.every((ms) => ms <= MAX_WAIT_MS)).toBe(true);
    });

    it("takes no pause longer than 60 s from the shared budget without asking again", async () => {
        const clock = new FakeClock();
        const shared = new ScriptedBucket([3_600_000, 0]);
        const budget = new RequestBudget(60, clock, shared);
        await budget.acquire("high");
        expect(clock.sleeps).toEqual([MAX_WAIT_MS]);
    });
});
