/** RequestBudget on an injected clock: pacing, burst, priorities, and slowing down after a 429. */
import { PACING, RequestBudget } from "../../provider/budget";
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

    it("slows down on 429 (at most once a second) and creeps back up on success", () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(1000, clock);
        expect(budget.currentPerMinute).toBeCloseTo(950);
        budget.onThrottled();
        expect(budget.currentPerMinute).toBeCloseTo(665);
        budget.onThrottled(); // same second: no further cut
        expect(budget.currentPerMinute).toBeCloseTo(665);
        clock.advance(1000);
        budget.onThrottled();
        expect(budget.currentPerMinute).toBeCloseTo(465.5);
        for (let i = 0; i < 100; i++) budget.onSuccess();
        expect(budget.currentPerMinute).toBeCloseTo(950);
    });
});
