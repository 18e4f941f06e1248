/**
 * How an accepted delete takes effect: at once (the default), not at all the first time for each
 * video (dropFirstDelete: a faulty backend acknowledges and drops it), or deleteLagSeconds of
 * emulated time later (an eventually consistent one). Until it takes effect, status and files still
 * answer. Planned removals live in the store, so they survive a restart.
 */
import type { EmulatedClock } from "./clock";
import type { VideoFiles } from "./files";
import type { Switches } from "./options";
import type { Store } from "./store";

export type DeleteOutcome = "applied" | "dropped" | "pending";

export class Deletions {
    constructor(
        private readonly store: Store,
        private readonly files: VideoFiles,
        private readonly clock: EmulatedClock,
    ) {}

    /** Handles a delete request the route has accepted (answered 200) for a stored video. */
    request(id: string, switches: Pick<Switches, "dropFirstDelete" | "deleteLagSeconds">): DeleteOutcome {
        const requests = this.store.countDeleteRequest(id);
        if (switches.dropFirstDelete && requests === 1) return "dropped";
        if (switches.deleteLagSeconds > 0) {
            this.store.scheduleDelete(id, this.clock.now() + switches.deleteLagSeconds * 1000);
            this.applyDue();
            return this.store.get(id) ? "pending" : "applied";
        }
        this.remove(id);
        return "applied";
    }

    /** Removes the videos whose planned removal time has come; called before any lookup of a video. */
    applyDue(): void {
        for (const id of this.store.dueDeletes(this.clock.now())) this.remove(id);
    }

    private remove(id: string): void {
        this.store.delete(id);
        this.files.remove(id);
    }
}
