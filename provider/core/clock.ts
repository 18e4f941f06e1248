/**
 * Time as the provider sees it. Every wait and deadline goes through a Clock so tests (and
 * benchmarks on an accelerated emulator) can inject their own and still assert real intervals.
 */
export interface Clock {
    /** Milliseconds since the epoch. */
    now(): number;
    /**
     * Resolves after `ms` milliseconds of this clock's time. A `background` sleep (a heartbeat) does not
     * keep the process alive by itself: whatever it serves holds the process while it matters.
     */
    sleep(ms: number, options?: { background?: boolean }): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms, options) =>
        new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, ms));
            if (options?.background) timer.unref();
        }),
};

/**
 * A clock running `speed` times faster than the wall clock from now on: the provider's side of an
 * accelerated emulator (whose `clockSpeed` is the same factor), for benchmarks of 12-minute videos.
 */
export function scaledClock(speed: number, base: Clock = systemClock): Clock {
    const realStart = base.now();
    return {
        now: () => realStart + (base.now() - realStart) * speed,
        sleep: (ms, options) => base.sleep(ms / speed, options),
    };
}
