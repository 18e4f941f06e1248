/**
 * `imagine-video delete ID... | --ids-file FILE | --ids-file -`: verified deletes at the pace of the
 * request budget, a receipt per video, Ctrl-C that stops sending and says what is done and what is not.
 * Also `runDeletes`, the loop `sweep` uses too.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { appendReceipt } from "../deletion/deletion-log";
import { ProviderSettings } from "../inputs/settings";
import { ImagineError } from "../core/errors";
import { deleteFromVendor, DeleteOutcome } from "../lifecycle/vendor-delete";
import { API_OPTIONS, Options, parse, str, UsageError, Values } from "./args";
import {
    ApiContext,
    asOneDelete,
    connect,
    Gate,
    NotSentError,
    preflight,
    receiptsPath,
    settingsFrom,
    unwritable,
} from "./context";
import { argSource, collectIds, fileSource } from "./ids";
import { Output } from "./io";
import { CliIo } from "./io";
import { ProgressBar } from "./progress";

export const DELETE_HELP = `Usage: imagine-video delete ID... | --ids-file FILE | --ids-file -  [options]

Deletes each video through the Imagine Delete API, verified as \`pulumi destroy\` verifies it, at the
pace of the request budget, and appends a receipt per video to the receipts file.
Every id is checked first (and duplicates removed): a malformed one stops everything (exit 2).

Options:
  --ids-file FILE          one id per line (blank lines and # comments skipped); - reads stdin
  --reason TEXT            recorded in each receipt (e.g. "privacy request #1234")
  --receipts FILE          receipts file (default: IMAGINE_DELETION_LOG, else imagine-deletions.jsonl)
  --dry-run                check the ids and the receipts file, print what would be deleted, send nothing
  --json                   JSON lines (the default when stdout is not a terminal)
  --base-url URL           overrides IMAGINE_BASE_URL
  --requests-per-minute N  overrides IMAGINE_REQUESTS_PER_MINUTE
  --verify-deletes MODE    file, status or off (overrides IMAGINE_VERIFY_DELETES)
  --delete-timeout-minutes N, --request-timeout-seconds N, --allow-insecure-http, --verbose
Exit: 0 all deleted, 1 some failed (each named), 2 bad usage or configuration, 130 interrupted.`;

/** A video to delete and what is known of it (a sweep knows its resource). */
export interface DeleteItem {
    id: string;
    props: Record<string, unknown>;
}

export interface DeleteRun {
    deleted: number;
    failed: { id: string; message: string }[];
    notDone: string[];
    notDoneCount: number;
    interrupted: boolean;
}

/** Deletes in flight: enough to keep the budget busy, few enough that Ctrl-C has little to wait for. */
export function concurrencyFor(requestsPerMinute: number): number {
    return Math.min(32, Math.max(4, Math.ceil(requestsPerMinute / 60) * 2));
}

/** Keeps at most this many not-done ids in memory for the summary; the rest go to a file. */
const NOT_DONE_SHOWN = 50;

/**
 * Runs the deletes of `items` (`total` of them), a few in flight, writing a receipt for each deleted
 * one. On Ctrl-C (the gate closes) nothing new starts; deletes already sent finish.
 */
export async function runDeletes(
    api: ApiContext,
    out: Output,
    items: AsyncIterable<DeleteItem>,
    total: number,
    o: { receipts: string; reason: string | null; gate: Gate; onDone?: (item: DeleteItem) => Promise<void> },
): Promise<DeleteRun> {
    const bar = new ProgressBar(out, total, "deleting");
    const run: DeleteRun = { deleted: 0, failed: [], notDone: [], notDoneCount: 0, interrupted: false };
    const notDoneFile = path.join(
        path.dirname(o.receipts),
        `imagine-video-not-done-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`,
    );
    const notDone = (id: string) => {
        run.notDoneCount++;
        if (run.notDone.length < NOT_DONE_SHOWN) run.notDone.push(id);
        fs.appendFileSync(notDoneFile, id + "\n");
    };
    const iterator = items[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<DeleteItem>> = Promise.resolve({ done: false, value: undefined as never });
    const take = () => (next = next.then((r) => (r.done ? r : iterator.next())));
    const worker = async () => {
        for (;;) {
            if (o.gate.closed) return;
            const r = await take();
            if (r.done) return;
            const { id, props } = r.value;
            if (o.gate.closed) {
                notDone(id);
                return;
            }
            let outcome: DeleteOutcome;
            try {
                outcome = await asOneDelete(() => deleteFromVendor(api.ops, id, props));
            } catch (e) {
                if (e instanceof NotSentError) {
                    notDone(id);
                    continue;
                }
                const message =
                    e instanceof ImagineError ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
                run.failed.push({ id, message });
                out.event({ event: "failed", id, error: message });
                out.error(`failed ${id}: ${message}`);
                bar.tick(true);
                continue;
            }
            try {
                appendReceipt(o.receipts, out.io.cwd, {
                    videoId: id,
                    ...identity(props),
                    deletedAt: new Date().toISOString(),
                    ...outcome,
                    reason: o.reason,
                    source: "cli",
                });
            } catch (e) {
                const message = `deleted, but its receipt could not be written to ${o.receipts} (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
                run.failed.push({ id, message });
                out.event({ event: "failed", id, error: message });
                out.error(`failed ${id}: ${message}`);
                bar.tick(true);
                continue;
            }
            await o.onDone?.(r.value);
            run.deleted++;
            out.event({ event: "deleted", id, ...outcome });
            bar.tick();
        }
    };
    await Promise.all(Array.from({ length: concurrencyFor(api.settings.requestsPerMinute) }, worker));
    bar.finish();
    if (o.gate.closed) {
        run.interrupted = true;
        // The ids never reached: not done either (streamed to the file, never all held).
        for (;;) {
            const r = await take();
            if (r.done) break;
            notDone(r.value.id);
        }
    }
    if (run.notDoneCount > 0) {
        out.error(
            `not done: ${run.notDoneCount} id(s), written to ${notDoneFile}` +
                ` (run \`imagine-video delete --ids-file ${notDoneFile}\` to go on)` +
                (run.notDoneCount <= NOT_DONE_SHOWN ? `: ${run.notDone.join(" ")}` : ""),
        );
    }
    return run;
}

function identity(props: Record<string, unknown>) {
    const k = props.identity as Record<string, unknown> | undefined;
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
    return { project: text(k?.project), stack: text(k?.stack), name: text(k?.name) };
}

/** The flags of commands that delete (`delete`, `sweep`). */
export const DELETING_OPTIONS: Options = {
    ...API_OPTIONS,
    reason: { type: "string" },
    receipts: { type: "string" },
    "dry-run": { type: "boolean" },
};

/** The receipts file of a deleting command, or undefined (said on stderr) when it cannot be written: exit 2. */
export function writableReceipts(values: Values, out: Output): string | undefined {
    const receipts = receiptsPath(str(values, "receipts"), out.io.env, out.io.cwd);
    const cannot = unwritable(receipts);
    if (cannot) {
        out.error(`imagine-video: the receipts file ${receipts} cannot be written (${cannot}); nothing was deleted.`);
        return undefined;
    }
    return receipts;
}

export async function deleteCommand(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(argv, { ...DELETING_OPTIONS, "ids-file": { type: "string" } });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(DELETE_HELP + "\n");
        return 0;
    }
    const idsFile = str(values, "ids-file");
    if (idsFile !== undefined && positionals.length > 0) {
        throw new UsageError("give ids as arguments or --ids-file, not both.");
    }
    if (idsFile === undefined && positionals.length === 0) {
        throw new UsageError("no ids: give them as arguments, or --ids-file FILE (- for stdin).");
    }
    const settings = settingsFrom(values, io.env);
    const receipts = writableReceipts(values, out);
    if (receipts === undefined) return 2;
    if (idsFile !== undefined && idsFile !== "-" && !fs.existsSync(path.resolve(io.cwd, idsFile))) {
        throw new UsageError(`--ids-file ${idsFile}: no such file.`);
    }
    const ids = await collectIds(
        idsFile !== undefined ? fileSource(idsFile, io.cwd, io.stdin) : argSource(positionals),
    );
    try {
        const dup =
            ids.duplicates > 0 ? ` (${ids.duplicates} duplicate${ids.duplicates === 1 ? "" : "s"} removed)` : "";
        if (values["dry-run"]) {
            for await (const id of ids.ids()) {
                out.line(`would delete ${id}`);
                out.event({ event: "would-delete", id });
            }
            out.line(`dry run: ${ids.unique} video(s) would be deleted${dup}; receipts would go to ${receipts}`);
            out.event({ event: "summary", dryRun: true, total: ids.unique, duplicates: ids.duplicates, receipts });
            return 0;
        }
        out.line(`deleting ${ids.unique} video(s)${dup} at up to ${settings.requestsPerMinute} requests a minute`);
        out.event({ event: "start", total: ids.unique, duplicates: ids.duplicates, receipts });
        const items = (async function* () {
            for await (const id of ids.ids()) yield { id, props: {} };
        })();
        return await deleteAll(settings, values, out, items, ids.unique, {
            receipts,
            reason: str(values, "reason") ?? null,
        });
    } finally {
        ids.dispose();
    }
}

/**
 * The deletes of a command, from the check of the endpoint and token (exit 2) to the summary, with
 * Ctrl-C wired to the gate; resolves the exit code.
 */
export async function deleteAll(
    settings: ProviderSettings,
    values: Values,
    out: Output,
    items: AsyncIterable<DeleteItem>,
    total: number,
    o: { receipts: string; reason: string | null; onDone?: (item: DeleteItem) => Promise<void> },
): Promise<number> {
    const gate = new Gate();
    let interrupts = 0;
    const unsubscribe = out.io.onInterrupt?.(() => {
        interrupts++;
        if (interrupts === 1) {
            out.error(
                "interrupted: no new delete is sent; waiting for the deletes in flight (Ctrl-C again to quit now)",
            );
            gate.close();
        }
    });
    const api = connect(settings, out, values.verbose === true, gate);
    try {
        const problem = await preflight(api, out.io.clock);
        if (problem) {
            out.error(`imagine-video: ${problem}`);
            return 2;
        }
        const run = await runDeletes(api, out, items, total, { ...o, gate });
        summarize(out, run, total, o.receipts);
        return run.interrupted ? 130 : run.failed.length > 0 ? 1 : 0;
    } finally {
        unsubscribe?.();
        await api.close();
    }
}

/** The last lines: what was deleted, what failed (each named above), what was not done. */
export function summarize(out: Output, run: DeleteRun, total: number, receipts: string): void {
    const parts = [`${run.deleted} deleted`, `${run.failed.length} failed`];
    if (run.interrupted) parts.push(`${run.notDoneCount} not done`);
    out.line(`${run.interrupted ? "interrupted" : "done"}: ${parts.join(", ")} of ${total}; receipts in ${receipts}`);
    for (const f of run.failed) out.line(`  failed ${f.id}`);
    out.event({
        event: "summary",
        total,
        deleted: run.deleted,
        failed: run.failed.map((f) => f.id),
        notDone: run.notDoneCount,
        interrupted: run.interrupted,
        receipts,
    });
}
