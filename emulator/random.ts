/**
 * The emulator's dice (fault injection, generation failures): Math.random, or with the `seed` switch a
 * seeded generator (mulberry32), so a run with injected faults draws the same sequence again.
 */
export function randomSource(seed: number): () => number {
    if (!seed) return Math.random;
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
