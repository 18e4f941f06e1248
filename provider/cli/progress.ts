/** The progress bar on a terminal: done / total, rate, ETA, failures; redrawn at most ten times a second. */
import { Output } from "./io";

export class ProgressBar {
    private done = 0;
    private failed = 0;
    private readonly started: number;
    private lastDraw = -Infinity;
    private shown = false;

    constructor(
        private readonly out: Output,
        private readonly total: number,
        private readonly label: string,
    ) {
        this.started = out.io.clock.now();
        if (out.tty && !out.json) {
            out.beforeLine = () => this.clear();
        }
    }

    tick(failed = false): void {
        this.done++;
        if (failed) this.failed++;
        this.draw(false);
    }

    draw(force: boolean): void {
        const out = this.out;
        if (!out.tty || out.json) return;
        const now = out.io.clock.now();
        if (!force && now - this.lastDraw < 100 && this.done < this.total) return;
        this.lastDraw = now;
        const seconds = Math.max(0.001, (now - this.started) / 1000);
        const rate = this.done / seconds;
        const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
        const width = 24;
        const filled = this.total > 0 ? Math.round((this.done / this.total) * width) : width;
        const bar = "#".repeat(filled) + "-".repeat(width - filled);
        out.raw(
            `\r\x1b[2K${this.label} [${bar}] ${this.done}/${this.total}  ${rate.toFixed(1)}/s  ETA ${clock(eta)}  failures ${this.failed}`,
        );
        this.shown = true;
    }

    clear(): void {
        if (this.shown) {
            this.out.raw("\r\x1b[2K");
            this.shown = false;
        }
    }

    finish(): void {
        this.draw(true);
        if (this.shown) this.out.raw("\n");
        this.shown = false;
        this.out.beforeLine = undefined;
    }
}

/** Seconds as `1h02m`, `3m05s`, `12s`; `?` when unknown. */
export function clock(seconds: number): string {
    if (!Number.isFinite(seconds)) return "?";
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = s % 60;
    if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
    if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
    return `${r}s`;
}
