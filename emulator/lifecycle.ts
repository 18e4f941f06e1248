/**
 * A video's life: processing until its due time (emulated), then the outcome decided at creation.
 * Output files of finished videos are written lazily on access and by a background timer, so state is
 * right after a restart whichever comes first.
 */
import type { EmulatedClock } from "./clock";
import type { VideoFiles } from "./files";
import type { Store, VideoRow } from "./store";

export type VideoState = "processing" | "finished" | "failed";

export class Lifecycle {
    private timer: NodeJS.Timeout | undefined;
    private stopped = false;

    constructor(
        private readonly store: Store,
        private readonly files: VideoFiles,
        private readonly clock: EmulatedClock,
        private readonly outputBytes: () => number,
    ) {}

    stateOf(video: VideoRow): VideoState {
        return this.clock.now() < video.dueMs ? "processing" : video.outcome;
    }

    /** Writes the outputs of a finished video if they are due and missing; returns the up-to-date row. */
    settle(video: VideoRow): VideoRow {
        if (video.filesReady || video.outcome !== "finished" || this.clock.now() < video.dueMs) return video;
        const bytes = this.files.writeOutputs(video.id, this.outputBytes());
        this.store.markFilesReady(video.id, bytes);
        return { ...video, filesReady: true, bytes };
    }

    settleAllDue(): void {
        for (;;) {
            const due = this.store.dueWithoutFiles(this.clock.now());
            if (due.length === 0) return;
            for (const video of due) this.settle(video);
        }
    }

    /** Starts the background timer: it wakes at the next due time (at least every second). */
    start(): void {
        this.stopped = false;
        this.tick();
    }

    /** Re-plans the timer, e.g. after a new video or a clock speed change. */
    poke(): void {
        if (this.stopped) return;
        if (this.timer) clearTimeout(this.timer);
        this.schedule();
    }

    stop(): void {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
    }

    private tick(): void {
        if (this.stopped) return;
        try {
            this.settleAllDue();
        } catch {
            // a disk error here is retried on the next tick or on access
        }
        this.schedule();
    }

    private schedule(): void {
        if (this.stopped) return;
        const next = this.store.nextDue();
        const delay = next === undefined ? 1000 : Math.min(1000, Math.max(5, this.clock.realDelayUntil(next)));
        this.timer = setTimeout(() => this.tick(), delay);
        this.timer.unref();
    }
}
