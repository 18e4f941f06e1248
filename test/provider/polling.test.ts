/** The polling schedule: when status checks happen around the expected generation time. */
import { FIRST_CHECK, nextPollDelay, PollSchedule } from "../../provider/polling";

const minute = 60_000;
const vendor: PollSchedule = { expectedMs: 12 * minute, minDelayMs: 5000, maxDelayMs: 60_000, requestsPerMinute: 50 };
const mid = () => 0.5;

/** Simulates one wait: checks until `doneAtMs`; returns how many checks and the detection lag. */
function simulate(doneAtMs: number, s: PollSchedule, inFlight = 1) {
    let t = 0;
    let checks = 0;
    for (;;) {
        t += nextPollDelay(t, inFlight, s, mid);
        checks++;
        if (t >= doneAtMs) return { checks, lagMs: t - doneAtMs };
    }
}

describe("nextPollDelay", () => {
    it("makes no check before a video can plausibly be done", () => {
        expect(nextPollDelay(0, 1, vendor, mid)).toBe(8 * minute);
        expect(nextPollDelay(5 * minute, 1, vendor, mid)).toBe(3 * minute);
        expect(FIRST_CHECK * 12).toBe(8);
    });

    it("checks densely around the expected end: a 12-minute video in at most 30 checks and 30 s of lag", () => {
        for (const doneAt of [10, 11, 12, 13.5, 15].map((m) => m * minute)) {
            const { checks, lagMs } = simulate(doneAt, vendor);
            expect(checks).toBeLessThanOrEqual(30);
            expect(lagMs).toBeLessThanOrEqual(30_000);
        }
    });

    it("backs off past the expected window, up to the maximum", () => {
        const late = [16, 20, 30, 60].map((m) => nextPollDelay(m * minute, 1, vendor, mid));
        expect(late[0]).toBeLessThan(late[2]);
        expect(late[3]).toBe(60_000);
    });

    it("spaces checks out as more videos are waited for, keeping polls within 80% of the budget", () => {
        const perVideo = nextPollDelay(11 * minute, 50, vendor, mid);
        expect(perVideo).toBe(75_000); // 50 videos, 40 polls a minute for all of them
        const pollsPerMinute = (50 * minute) / perVideo;
        expect(pollsPerMinute).toBeLessThanOrEqual(0.8 * 50);
    });

    it("jitters by at most 10%", () => {
        const d = (r: number) => nextPollDelay(11 * minute, 1, vendor, () => r);
        expect(d(0)).toBeCloseTo(0.9 * d(0.5));
        expect(d(0.999999)).toBeCloseTo(1.1 * d(0.5), 0);
    });
});
