/**
 * The count of videos being waited for with one API key, across the fleet of provider processes
 * sharing a Redis budget. Polling reads `inFlight` (and waits add and remove themselves with
 * `inFlight++` / `inFlight--`, as they do on the plain process-wide counter): reading gives this
 * process's waits plus the others' as last heard from Redis; writing changes this process's count,
 * which a background loop reports while there is anything to report. Without Redis, the others
 * count as none.
 */
import { Clock } from "../core/clock";

/** How often (clock ms) a process with waits renews its count in Redis. */
export const WAITS_HEARTBEAT_MS = 5000;
/** A count not renewed for this long (clock ms) is dropped: its process is gone. */
export const WAITS_LEASE_MS = 4 * WAITS_HEARTBEAT_MS;

/**
 * Reports this process's count with its lease (clock ms; Redis times it by its own clock); resolves
 * the fleet's total, or undefined when Redis cannot say.
 */
export type WaitsSync = (localCount: number, leaseMs: number) => Promise<number | undefined>;

export class FleetWaits {
    private local = 0;
    private others = 0;
    private dirty = false;
    private requesting = false;
    private beating = false;

    constructor(
        private readonly clock: Clock,
        private readonly sync: WaitsSync,
    ) {}

    /** Videos being waited for across the fleet (this process's included). */
    get inFlight(): number {
        return this.local + this.others;
    }

    /** Changes this process's count by the difference to the fleet total read before. */
    set inFlight(value: number) {
        this.local = Math.max(0, this.local + (value - this.inFlight));
        this.dirty = true;
        void this.flush();
        void this.heartbeat();
    }

    /** This process's own waits. */
    get localInFlight(): number {
        return this.local;
    }

    /** Reports the count (again, if it changed meanwhile) and keeps the fleet's total. */
    private async flush(): Promise<void> {
        if (this.requesting) {
            return;
        }
        this.requesting = true;
        try {
            while (this.dirty) {
                this.dirty = false;
                const sent = this.local;
                const total = await this.sync(sent, WAITS_LEASE_MS).catch(() => undefined);
                this.others = total === undefined ? 0 : Math.max(0, total - sent);
            }
        } finally {
            this.requesting = false;
        }
    }

    /** While this process has waits, renews its lease (and hears the others' count) every heartbeat. */
    private async heartbeat(): Promise<void> {
        if (this.beating) {
            return;
        }
        this.beating = true;
        try {
            while (this.local > 0) {
                // In the background: the waits it reports hold the process, not the heartbeat.
                await this.clock.sleep(WAITS_HEARTBEAT_MS, { background: true });
                this.dirty = true;
                await this.flush();
            }
        } finally {
            this.beating = false;
        }
    }
}
