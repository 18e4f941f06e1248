// Finding every process a run started, whatever its parentage: the run's children inherit an
// environment variable carrying a random marker, and /proc shows each process's environment (Linux).
import * as fs from "fs";

/** Pids of live processes whose environment holds `name=marker`. */
export function processesWithMarker(name: string, marker: string): number[] {
    const found: number[] = [];
    for (const e of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try {
            if (fs.readFileSync(`/proc/${e}/environ`, "utf8").includes(`${name}=${marker}`)) found.push(Number(e));
        } catch {
            /* gone, or not ours */
        }
    }
    return found;
}

/** Waits up to `ms` for those processes to end; returns the pids still there. */
export async function waitUntilGone(name: string, marker: string, ms = 5000): Promise<number[]> {
    const end = Date.now() + ms;
    let left = processesWithMarker(name, marker);
    while (left.length && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        left = processesWithMarker(name, marker);
    }
    return left;
}
