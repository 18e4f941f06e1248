/**
 * What a command reads and writes: streams, environment, folder, clock and Ctrl-C, injectable so tests
 * run commands in-process. Everything written goes through `redact`: the API token and signed URL
 * queries never reach the terminal, whatever a message holds.
 */
import { Readable, Writable } from "node:stream";
import { Clock, systemClock } from "../core/clock";
import { redactSecrets } from "../api/request-sender";

export interface CliIo {
    stdout: Writable & { isTTY?: boolean; columns?: number };
    stderr: Writable;
    stdin: Readable;
    env: NodeJS.ProcessEnv;
    cwd: string;
    clock: Clock;
    /** Subscribes to Ctrl-C (SIGINT); returns the unsubscribe. Absent: Ctrl-C is not caught. */
    onInterrupt?: (handler: () => void) => () => void;
}

export function processIo(): CliIo {
    return {
        stdout: process.stdout,
        stderr: process.stderr,
        stdin: process.stdin,
        env: process.env,
        cwd: process.cwd(),
        clock: systemClock,
    };
}

/** Writes for a command: text lines, JSON lines (with `--json` or when stdout is not a terminal), errors. */
export class Output {
    readonly json: boolean;
    readonly tty: boolean;
    private readonly token: string;
    /** Cleared before each line (the progress bar). */
    beforeLine?: () => void;

    constructor(
        readonly io: CliIo,
        jsonFlag: boolean,
    ) {
        this.tty = io.stdout.isTTY === true;
        this.json = jsonFlag || !this.tty;
        this.token = io.env.IMAGINE_API_TOKEN?.trim() ?? "";
    }

    redact(text: string): string {
        return redactSecrets(text, this.token);
    }

    /** A line for a person (text mode only). */
    line(text: string): void {
        if (!this.json) {
            this.beforeLine?.();
            this.io.stdout.write(this.redact(text) + "\n");
        }
    }

    /** A JSON line (JSON mode only). */
    event(e: Record<string, unknown>): void {
        if (this.json) {
            this.io.stdout.write(this.redact(JSON.stringify(e)) + "\n");
        }
    }

    /** A line on stderr, in both modes (warnings, errors, what was not done). */
    error(text: string): void {
        this.beforeLine?.();
        this.io.stderr.write(this.redact(text) + "\n");
    }

    /** Raw text to a terminal (the progress bar). */
    raw(text: string): void {
        this.io.stdout.write(this.redact(text));
    }
}
