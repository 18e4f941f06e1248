/**
 * What this process has learned about how long each style's generations take. Once a video of a
 * style has finished, later waits for that style plan their status checks around the time it took
 * (see provider/polling/polling.ts). Kept in memory, per style, for the life of the provider process (one
 * `pulumi up`): nothing is written anywhere, and a new process starts from `imagine:expectedMinutes`.
 */

/** A learned plan for one style. */
export interface LearnedTiming {
    /** The typical generation time (median of the recent ones): where checks are densest. */
    typicalMs: number;
    /** The fastest recent generation: no check is planned before half of it. */
    fastestMs: number;
    /** Finished generations this is based on. */
    samples: number;
}

/** Recent generations remembered per style. */
export const SAMPLES_PER_STYLE = 5;
/** Styles remembered (the oldest learned is forgotten first). */
export const MAX_STYLES = 100;

export class GenerationTimes {
    private readonly byStyle = new Map<string, number[]>();

    /** A video of `style` was seen finished about `durationMs` after its generation started. */
    record(style: string, durationMs: number): void {
        if (!(durationMs > 0) || !Number.isFinite(durationMs)) {
            return;
        }
        const recent = this.byStyle.get(style) ?? [];
        this.byStyle.delete(style);
        recent.push(durationMs);
        if (recent.length > SAMPLES_PER_STYLE) {
            recent.shift();
        }
        this.byStyle.set(style, recent);
        if (this.byStyle.size > MAX_STYLES) {
            this.byStyle.delete(this.byStyle.keys().next().value as string);
        }
    }

    /** The plan learned for `style`, if a video of it has finished in this process. */
    timing(style: string | undefined): LearnedTiming | undefined {
        const recent = style === undefined ? undefined : this.byStyle.get(style);
        if (!recent || recent.length === 0) {
            return undefined;
        }
        const sorted = [...recent].sort((a, b) => a - b);
        const mid = Math.floor(sorted.length / 2);
        const typicalMs = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return { typicalMs, fastestMs: sorted[0], samples: sorted.length };
    }
}
