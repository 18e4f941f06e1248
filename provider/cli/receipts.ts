/**
 * `imagine-video receipts`: reads the receipts file (the one `delete` and the provider write), filtered
 * by stack and date; `--verify` re-checks that each deleted video is still gone (a privacy audit): one
 * status read per video, the vendor's 404 is proof. Exit 1 if any came back (or could not be checked).
 */
import * as fs from "node:fs";
import * as readline from "node:readline";
import { checkGone } from "../deletion/delete-verification";
import { ImagineError } from "../core/errors";
import { API_OPTIONS, parse, str, UsageError } from "./args";
import { connect, receiptsPath, settingsFrom } from "./context";
import { collectIds } from "./ids";
import { CliIo, Output } from "./io";

export const RECEIPTS_HELP = `Usage: imagine-video receipts [--receipts FILE] [--stack S] [--since DATE] [--verify] [--json]

Lists deletion receipts (the provider's and this CLI's), oldest first.
  --receipts FILE  the receipts file (default: IMAGINE_DELETION_LOG, else imagine-deletions.jsonl)
  --stack S        only receipts of stack S
  --since DATE     only receipts from DATE on (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z)
  --verify         re-check with a status read that each video is still gone (needs IMAGINE_API_TOKEN)
  --json           JSON lines
Exit: 0, or 1 when --verify finds a video that came back (or cannot check one), 2 bad usage.`;

interface Receipt {
    videoId: string;
    project: string | null;
    stack: string | null;
    name: string | null;
    deletedAt: string;
    method?: string;
    verification?: string;
    attempts?: number;
    reason?: string | null;
    source?: string;
}

export async function receiptsCommand(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(argv, {
        ...API_OPTIONS,
        receipts: { type: "string" },
        stack: { type: "string" },
        since: { type: "string" },
        verify: { type: "boolean" },
    });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(RECEIPTS_HELP + "\n");
        return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}".`);
    const sinceText = str(values, "since");
    const since = sinceText === undefined ? -Infinity : Date.parse(sinceText);
    if (Number.isNaN(since)) throw new UsageError(`--since "${sinceText}" is not a date (write e.g. 2026-01-31).`);
    const stack = str(values, "stack");
    const file = receiptsPath(str(values, "receipts"), io.env, io.cwd);
    if (!fs.existsSync(file)) {
        out.error(`imagine-video: no receipts file at ${file} (set --receipts or IMAGINE_DELETION_LOG).`);
        return 2;
    }
    // Settings first: a missing token fails before the file is read (exit 2, nothing asked).
    const settings = values.verify ? settingsFrom(values, io.env) : undefined;

    let shown = 0;
    let skipped = 0;
    const matching = async function* (): AsyncIterable<Receipt> {
        const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
        for await (const line of rl) {
            if (line.trim() === "") continue;
            let r: Receipt;
            try {
                r = JSON.parse(line) as Receipt;
                if (typeof r.videoId !== "string" || typeof r.deletedAt !== "string") throw new Error();
            } catch {
                skipped++;
                continue;
            }
            if (stack !== undefined && r.stack !== stack) continue;
            if (Date.parse(r.deletedAt) < since) continue;
            yield r;
        }
    };
    for await (const r of matching()) {
        shown++;
        out.event({ ...r });
        const who = r.stack ? `${r.project}/${r.stack}/${r.name}` : (r.source ?? "-");
        out.line(
            `${r.deletedAt}  ${r.videoId}  ${who}  ${r.verification ?? "?"}${r.reason ? `  reason: ${r.reason}` : ""}`,
        );
    }
    if (skipped > 0) out.error(`warning: ${skipped} line(s) of ${file} are not receipts; skipped`);
    out.line(`${shown} receipt(s)`);
    if (!values.verify || !settings) return 0;

    // The ids again, streamed and deduplicated (a video deleted twice is checked once).
    const unique = await collectIds({
        lines: (async function* () {
            for await (const r of matching()) yield r.videoId;
        })(),
        where: (n) => `receipt ${n}`,
    }).catch(() => undefined);
    if (!unique) {
        out.error("imagine-video: some receipts hold malformed video ids; nothing verified.");
        return 1;
    }
    const api = connect(settings, out, values.verbose === true);
    let back = 0;
    let unchecked = 0;
    try {
        for await (const id of unique.ids()) {
            try {
                const check = await checkGone(
                    { client: api.client, requestTimeoutMs: settings.requestTimeoutMs },
                    id,
                    undefined,
                    "status",
                    io.clock.now() + settings.deleteTimeoutMs,
                );
                if (check.gone) {
                    out.event({ event: "verified", id, gone: true });
                } else {
                    back++;
                    out.event({ event: "verified", id, gone: false });
                    out.error(`CAME BACK ${id}: the API still answers its status`);
                }
            } catch (e) {
                unchecked++;
                const message = e instanceof ImagineError ? e.message : (e as Error).message;
                out.event({ event: "unverified", id, error: message });
                out.error(`could not check ${id}: ${message}`);
            }
        }
    } finally {
        unique.dispose();
        await api.close();
    }
    out.line(
        `verified ${unique.unique} video(s): ${unique.unique - back - unchecked} still gone, ${back} came back, ${unchecked} could not be checked`,
    );
    out.event({ event: "summary", verified: unique.unique, cameBack: back, unchecked });
    return back > 0 || unchecked > 0 ? 1 : 0;
}
