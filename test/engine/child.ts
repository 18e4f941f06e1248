// A child process whose output is captured and which is always stopped by whoever started it.
import { spawn, ChildProcess } from "child_process";

export class Child {
    readonly proc: ChildProcess;
    stdout = "";
    stderr = "";
    readonly exited: Promise<number | null>;
    private exitCode: number | null | undefined;

    /**
     * `onLine` (optional) is called with each complete line of output as it arrives (without its line
     * break; a last line without one is passed when the process closes). The output is captured as well.
     * `nodePath` (optional) is the Node binary that runs `args`; default the one running this process.
     */
    constructor(
        readonly label: string,
        args: string[],
        opts: {
            cwd: string;
            env: NodeJS.ProcessEnv;
            onLine?: (line: string, stream: "stdout" | "stderr") => void;
            nodePath?: string;
        },
    ) {
        this.proc = spawn(opts.nodePath ?? process.execPath, args, {
            cwd: opts.cwd,
            env: opts.env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const onLine = opts.onLine;
        const pending = { stdout: "", stderr: "" };
        const lines = (stream: "stdout" | "stderr", d: string) => {
            if (!onLine) return;
            const parts = (pending[stream] + d).split("\n");
            pending[stream] = parts.pop()!;
            for (const l of parts) callSafely(onLine, l.replace(/\r$/, ""), stream);
        };
        this.proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
            this.stdout += d;
            lines("stdout", d);
        });
        this.proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
            this.stderr += d;
            lines("stderr", d);
        });
        this.exited = new Promise((resolve) => {
            this.proc.on("error", (e) => {
                this.stderr += `${label}: failed to start: ${e.message}\n`;
                this.exitCode = -1;
                resolve(-1);
            });
            this.proc.on("close", (code, signal) => {
                if (onLine) {
                    for (const stream of ["stdout", "stderr"] as const)
                        if (pending[stream]) callSafely(onLine, pending[stream], stream);
                    pending.stdout = pending.stderr = "";
                }
                this.exitCode = code ?? (signal ? -1 : null);
                resolve(this.exitCode);
            });
        });
    }

    get running(): boolean {
        return this.exitCode === undefined;
    }

    /** Stops this process (by its own pid) and waits for it to be gone. */
    async stop(): Promise<void> {
        if (this.running) {
            this.proc.kill("SIGKILL");
        }
        await this.exited;
    }
}

/** A listener's exception must not break the capture nor the process's lifecycle. */
function callSafely(
    f: (line: string, stream: "stdout" | "stderr") => void,
    line: string,
    stream: "stdout" | "stderr",
): void {
    try {
        f(line, stream);
    } catch {
        /* ignored */
    }
}
