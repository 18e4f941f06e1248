/**
 * Who owns a ledger entry in progress, and whether its lease is free: an owner is `host:pid:nonce` (the
 * provider process that accepted or claimed the generation). A lease is free when it has run out, when
 * the entry predates owners (0.1), or when its owner is a process of this machine that no longer runs
 * (a `pulumi up` killed with -9 does not hold its videos for the rest of the lease).
 */
import { randomBytes } from "crypto";
import * as os from "os";

const PROCESS_NONCE = randomBytes(4).toString("hex");

/** An owner id for this process; `nonce` tells provider instances of one process apart (tests run several). */
export function ownerId(nonce = PROCESS_NONCE): string {
    return `${os.hostname()}:${process.pid}:${nonce}`;
}

/** Whether another create may adopt or sweep the entry (`self`: this process's owner id). */
export function leaseIsFree(e: { owner?: string; leaseUntil?: number }, now: number, self: string): boolean {
    if (e.owner === undefined || e.leaseUntil === undefined || e.leaseUntil < now || e.owner === self) {
        return true;
    }
    return ownerIsGone(e.owner);
}

/** True only when the owner is a process of this machine that no longer runs. */
function ownerIsGone(owner: string): boolean {
    const [host, pidText] = owner.split(":");
    const pid = Number(pidText);
    if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) {
        return false;
    }
    try {
        process.kill(pid, 0);
        return false;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
}
