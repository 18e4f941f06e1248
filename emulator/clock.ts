/**
 * The emulated clock: emulated ms = anchorEmulated + (real - anchorReal) * speed.
 * The anchor lives in the store so emulated time continues across restarts; changing the speed
 * re-anchors at the current emulated instant so time never jumps.
 */
export interface ClockAnchor {
    realMs: number;
    emulatedMs: number;
    speed: number;
}

export class EmulatedClock {
    private anchor: ClockAnchor;

    constructor(
        private readonly realNow: () => number,
        stored: ClockAnchor | undefined,
        speed: number,
        private readonly persist: (anchor: ClockAnchor) => void,
    ) {
        const real = realNow();
        // First start: emulated time begins at the real wall clock so created_at values look real.
        this.anchor = stored ?? { realMs: real, emulatedMs: real, speed };
        this.setSpeed(speed);
    }

    now(): number {
        const a = this.anchor;
        return a.emulatedMs + (this.realNow() - a.realMs) * a.speed;
    }

    get speed(): number {
        return this.anchor.speed;
    }

    setSpeed(speed: number): void {
        const real = this.realNow();
        const emulated = this.anchor.emulatedMs + (real - this.anchor.realMs) * this.anchor.speed;
        this.anchor = { realMs: real, emulatedMs: emulated, speed };
        this.persist(this.anchor);
    }

    /** Real milliseconds until the emulated clock reaches `emulatedMs` (Infinity if the clock is stopped). */
    realDelayUntil(emulatedMs: number): number {
        const remaining = emulatedMs - this.now();
        if (remaining <= 0) return 0;
        return this.anchor.speed > 0 ? remaining / this.anchor.speed : Infinity;
    }
}
