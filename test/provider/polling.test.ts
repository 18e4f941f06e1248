/**
 * The status-check schedule's properties (provider/polling/polling.ts), simulated check by check: the lag
 * bound at every generation time, the request count, where checks are densest, the fair share of
 * the budget, the jitter, a learned style's hold. No list of instants is hard-coded.
 */
import {
    DENSE_FROM,
    DENSE_UNTIL,
    GROWTH,
    JITTER,
    nextPollDelay,
    plannedDelay,
    PollSchedule,
} from "../../provider/polling/polling";
import { GenerationTimes, SAMPLES_PER_STYLE } from "../../provider/polling/generation-times";

const second = 1000;
const minute = 60_000;
/** The defaults: imagine:expectedMinutes 12, minPollSeconds 5, maxPollSeconds 60, requestsPerMinute 50. */
const defaults: PollSchedule = {
    expectedMs: 12 * minute,
    minDelayMs: 5 * second,
    maxDelayMs: 60 * second,
    requestsPerMinute: 50,
};

/** Jitter draws: always the shortest pause, always the longest, the middle, and a seeded mix. */
function seeded(seed: number): () => number {
    let x = seed;
    return () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x / 2 ** 31;
    };
}
const draws: [string, () => () => number][] = [
    ["shortest", () => () => 0],
    ["longest", () => () => 0.999999],
    ["middle", () => () => 0.5],
    ["seeded", () => seeded(42)],
];

/** One wait, check by check, until the video done at `doneAtMs` is seen: checks made and the lag. */
function simulate(doneAtMs: number, s: PollSchedule, random: () => number, inFlight = 1) {
    let t = 0;
    let checks = 0;
    for (;;) {
        t += nextPollDelay(t, inFlight, s, random);
        checks++;
        if (t >= doneAtMs) return { checks, lagMs: t - doneAtMs };
    }
}

/** The bound the schedule is built for: max(15 s, 25% of the generation time). */
const target = (generationMs: number) => Math.max(15 * second, 0.25 * generationMs);

describe("the schedule at default settings", () => {
    const durations = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 15, 18, 20, 25, 30, 45, 60];

    it.each(draws)(
        "notices a video within max(15 s, 25%% of its generation time) at every duration (jitter: %s)",
        (_name, random) => {
            for (const m of durations) {
                const { lagMs } = simulate(m * minute, defaults, random());
                expect({ minutes: m, lagMs: lagMs <= target(m * minute) }).toEqual({ minutes: m, lagMs: true });
                // The analytic bound of polling.ts: (1 + jitter) * max(floor, min(growth * T, max)).
                const analytic = (1 + JITTER) * Math.max(12 * second, Math.min(GROWTH * m * minute, 60 * second));
                expect(lagMs).toBeLessThan(analytic);
            }
        },
    );

    it.each(draws)(
        "makes at most 30 status requests for a 12-minute video and notices it within 30 s (jitter: %s)",
        (_name, random) => {
            for (const m of [10.5, 11, 11.5, 12, 12.5, 13, 14, 15]) {
                const { checks, lagMs } = simulate(m * minute, defaults, random());
                expect(lagMs).toBeLessThanOrEqual(30 * second);
                if (m <= 12) expect(checks).toBeLessThanOrEqual(30);
            }
        },
    );

    it("does not hold the first checks back for the expected time: the first comes within 15 s", () => {
        for (const r of [0, 0.5, 0.999999]) {
            expect(nextPollDelay(0, 1, defaults, () => r)).toBeLessThanOrEqual(15 * second);
        }
        // A one-minute video costs a handful of requests, not the dense window's.
        expect(simulate(1 * minute, defaults, () => 0).checks).toBeLessThanOrEqual(6);
    });

    it("is densest around imagine:expectedMinutes, wherever it is set: closer checks there than from E/2 to 2E outside it", () => {
        for (const expected of [3, 12, 25]) {
            const s = { ...defaults, expectedMs: expected * minute };
            const at = (fractions: number[]) => fractions.map((f) => plannedDelay(f * s.expectedMs, s));
            const inside = at([DENSE_FROM, 0.9, 1, 1.1, DENSE_UNTIL - 0.01]);
            const outside = at([0.5, 0.6, 0.7, DENSE_FROM - 0.01, DENSE_UNTIL, 1.5, 2]);
            expect(Math.max(...inside)).toBeLessThan(Math.min(...outside));
        }
    });

    it("never plans a pause below imagine:minPollSeconds nor above imagine:maxPollSeconds", () => {
        const s = { ...defaults, expectedMs: 30 * second, minDelayMs: 7 * second, maxDelayMs: 40 * second };
        for (let t = 0; t < 90 * minute; t += 7_777) {
            expect(plannedDelay(t, s)).toBeGreaterThanOrEqual(7 * second);
            expect(plannedDelay(t, s)).toBeLessThanOrEqual(40 * second);
        }
    });

    it("backs off past the expected window, up to the maximum", () => {
        const late = [16, 20, 30, 60].map((m) => plannedDelay(m * minute, defaults));
        expect(late[0]).toBeGreaterThan(plannedDelay(12 * minute, defaults));
        expect(late[3]).toBe(60 * second);
    });

    it("spaces checks out as more videos are waited for, keeping polls within 80% of the budget", () => {
        for (const inFlight of [10, 50, 200]) {
            for (const t of [0, 1, 11, 40].map((m) => m * minute)) {
                const pause = nextPollDelay(t, inFlight, defaults, () => 0);
                const pollsPerMinute = (inFlight * minute) / pause;
                expect(pollsPerMinute).toBeLessThanOrEqual((0.8 * 50) / (1 - JITTER) + 1e-9);
            }
        }
        // With many videos every pause is their fair share, from the first check on.
        expect(nextPollDelay(0, 50, defaults, () => 0.5)).toBe(75_000);
    });

    it("jitters by at most 10%", () => {
        const d = (r: number) => nextPollDelay(11 * minute, 1, defaults, () => r);
        expect(d(0)).toBeCloseTo((1 - JITTER) * d(0.5));
        expect(d(0.999999)).toBeCloseTo((1 + JITTER) * d(0.5), 0);
    });
});

describe("a learned style's plan", () => {
    /** What waitForVideo plans after a style's videos took `typical` (fastest `fastest`) minutes. */
    const learned = (typical: number, fastest = typical): PollSchedule => ({
        ...defaults,
        learned: { typicalMs: typical * minute, fastestMs: fastest * minute },
    });

    it("holds the first check until half the fastest time seen, then is dense around the typical one", () => {
        const s = learned(12, 11);
        expect(nextPollDelay(0, 1, s, () => 0.5)).toBe(5.5 * minute);
        const twelve = simulate(12 * minute, s, () => 0);
        const unlearned = simulate(12 * minute, defaults, () => 0);
        expect(twelve.checks).toBeLessThanOrEqual((unlearned.checks * 2) / 3);
        expect(twelve.lagMs).toBeLessThanOrEqual(30 * second);
    });

    it("notices a video of the learned time sooner than the default plan does, with at most one check more", () => {
        for (const m of [0.5, 1, 3, 12]) {
            for (const [, random] of draws) {
                const plan = simulate(m * minute, learned(m), random());
                expect(plan.lagMs).toBeLessThanOrEqual(Math.max(6 * second, 0.04 * m * minute));
                expect(plan.checks).toBeLessThanOrEqual(simulate(m * minute, defaults, random()).checks + 1);
            }
        }
    });

    it("still notices within max(15 s, 25%) a video slower than learned, or faster down to 40% of the fastest", () => {
        for (const m of [0.4, 0.6, 1, 2, 5, 12]) {
            for (const [, random] of draws) {
                expect(simulate(m * minute, learned(1), random()).lagMs).toBeLessThanOrEqual(target(m * minute));
            }
        }
    });
});

describe("GenerationTimes", () => {
    it("learns per style: the median of recent generations, and the fastest", () => {
        const times = new GenerationTimes();
        expect(times.timing("fast-svd")).toBeUndefined();
        for (const s of [70, 50, 60]) times.record("fast-svd", s * second);
        times.record("kling-1.0-pro", 12 * minute);
        expect(times.timing("fast-svd")).toEqual({ typicalMs: 60 * second, fastestMs: 50 * second, samples: 3 });
        expect(times.timing("kling-1.0-pro")).toEqual({ typicalMs: 12 * minute, fastestMs: 12 * minute, samples: 1 });
        expect(times.timing("hailuo-ai")).toBeUndefined();
        expect(times.timing(undefined)).toBeUndefined();
    });

    it("forgets the oldest generations, so a style that got slower is planned for anew", () => {
        const times = new GenerationTimes();
        times.record("s", 10 * second);
        for (let i = 0; i < SAMPLES_PER_STYLE; i++) times.record("s", 5 * minute);
        expect(times.timing("s")).toEqual({ typicalMs: 5 * minute, fastestMs: 5 * minute, samples: SAMPLES_PER_STYLE });
    });

    it("ignores durations that are not a positive time", () => {
        const times = new GenerationTimes();
        for (const bad of [0, -5, NaN, Infinity]) times.record("s", bad);
        expect(times.timing("s")).toBeUndefined();
    });
});
