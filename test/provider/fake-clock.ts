/** A Clock for tests: sleeps return at once, advance time, and are recorded. */
import { Clock } from "../../provider/core/clock";

/** A clock whose sleeps return at once but advance its time, recording every pause. */
export class FakeClock implements Clock {
    readonly sleeps: number[] = [];
    constructor(private t = 1_000_000) {}
    now(): number {
        return this.t;
    }
    async sleep(ms: number): Promise<void> {
        this.sleeps.push(ms);
        this.t += ms;
    }
    advance(ms: number): void {
        this.t += ms;
    }
}
