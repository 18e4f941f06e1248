import { RequestBudget } from "../../provider/budget";
import { FakeClock } from "./fake-clock";

describe("RequestBudget", () => {
    it("paces requests at the configured rate after a burst of one second's worth", async () => {
        const clock = new FakeClock();
        const budget = new RequestBudget(600, clock); // 10 a second, burst 10
        const start = clock.now();
        for (let i = 0; i < 30; i++) await budget.acquire("low");
        // 10 at once, then 20 more at 100 ms each.
        expect(clock.now() - start).toBeCloseTo(2000, -1);
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
        budget.onThrottled();
        expect(budget.currentPerMinute).toBeCloseTo(700);
        budget.onThrottled(); // same second: no further cut
        expect(budget.currentPerMinute).toBeCloseTo(700);
        clock.advance(1000);
        budget.onThrottled();
        expect(budget.currentPerMinute).toBeCloseTo(490);
        for (let i = 0; i < 100; i++) budget.onSuccess();
        expect(budget.currentPerMinute).toBe(1000);
    });
});
