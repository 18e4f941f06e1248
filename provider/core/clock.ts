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

/**
 * A clock running `speed` times faster than the wall clock from now on: the provider's side of an
 * accelerated emulator (whose `clockSpeed` is the same factor), for benchmarks of 12-minute videos.
 */
export function scaledClock(speed: number, base: Clock = systemClock): Clock {
    const realStart = base.now();
    return {
        now: () => realStart + (base.now() - realStart) * speed,
        sleep: (ms: number) => base.sleep(ms / speed),
    };
}
