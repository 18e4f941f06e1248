/**
 * Time as the provider sees it. Every wait and deadline goes through a Clock so tests (and
 * benchmarks on an accelerated emulator) can inject their own and still assert real intervals.
 */
export interface Clock {
    /** Milliseconds since the epoch. */
    now(): number;
    /** Resolves after `ms` milliseconds of this clock's time. */
    sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
