/**
 * Deletion receipts (`imagine:deletionLog`): a JSON Lines file with one line per video this provider
 * deleted or found already gone, for auditors. A receipt holds ids, names, a time, the HTTP method
 * and how the deletion was proven; never a URL or a token. Each receipt is one write of one whole
 * line to a file opened with O_APPEND, so many deletes and several processes can append at once
 * without interleaving.
 */
import * as fs from "fs";
import * as path from "path";

/** How a deletion was established. */
export type Verification = "file-404" | "status-404" | "already-gone" | "unverified";

export interface DeletionReceipt {
    videoId: string;
    /** The Pulumi project, stack and resource name; null for videos recorded before identities were kept. */
    project: string | null;
    stack: string | null;
    name: string | null;
    /** ISO 8601. */
    deletedAt: string;
    /** The method of the delete request the vendor answered last. */
    method: "DELETE" | "POST";
    verification: Verification;
    /** Delete requests sent for this video (re-sends after a delete that did not happen included). */
    attempts: number;
    /** Why it was deleted (the `imagine-video` CLI's `--reason`); absent from the provider's own receipts. */
    reason?: string | null;
    /** Who deleted it: `cli` for the `imagine-video` command; absent from the provider's own receipts. */
    source?: "cli";
}

/** The resource's identity as stored among the outputs; each part null when unknown (older state). */
export function identityOf(props: Record<string, unknown>): Pick<DeletionReceipt, "project" | "stack" | "name"> {
    const raw = props.identity;
    const o = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
    return { project: text(o.project), stack: text(o.stack), name: text(o.name) };
}

/** The receipt as one line of JSON, fields in a fixed order and nothing else (`reason` and `source` only from the CLI). */
export function receiptLine(r: DeletionReceipt): string {
    const fields: DeletionReceipt = {
        videoId: r.videoId,
        project: r.project,
        stack: r.stack,
        name: r.name,
        deletedAt: r.deletedAt,
        method: r.method,
        verification: r.verification,
        attempts: r.attempts,
    };
    if (r.source !== undefined) {
        fields.reason = r.reason ?? null;
        fields.source = r.source;
    }
    return JSON.stringify(fields) + "\n";
}

/**
 * Appends one receipt to `file` (resolved against `cwd`, the program folder), creating its folder.
 * One write(2) of the whole line with O_APPEND: atomic against other appenders on a local disk.
 */
export function appendReceipt(file: string, cwd: string, receipt: DeletionReceipt): void {
    const target = path.resolve(cwd, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const line = Buffer.from(receiptLine(receipt), "utf8");
    const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    try {
        const written = fs.writeSync(fd, line, 0, line.length);
        if (written !== line.length) {
            throw new Error(`wrote ${written} of ${line.length} bytes`);
        }
    } finally {
        fs.closeSync(fd);
    }
}
