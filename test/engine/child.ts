// A child process whose output is captured and which is always stopped by whoever started it.
import { spawn, ChildProcess } from "child_process";

export class Child {
    readonly proc: ChildProcess;
    stdout = "";
    stderr = "";
    readonly exited: Promise<number | null>;
    private exitCode: number | null | undefined;

    constructor(readonly label: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) {
        this.proc = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
        this.proc.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
        this.proc.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
        this.exited = new Promise((resolve) => {
            this.proc.on("error", (e) => {
                this.stderr += `${label}: failed to start: ${e.message}\n`;
                this.exitCode = -1;
                resolve(-1);
            });
            this.proc.on("close", (code, signal) => {
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
