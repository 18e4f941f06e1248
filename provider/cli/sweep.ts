/**
 * `imagine-video sweep [--older-than 2h] [--dry-run]`: deletes the generations in the ledger of accepted
 * generations that no stack holds: entries still `accepted` (never handed to the engine: the `pulumi up`
 * that started them died) and older than `--older-than`, for this API key and endpoint. Each is
 * deleted and verified as `delete` does, receipted, and its entry removed. `handed` entries may be in
 * a stack and are never touched.
 */
import * as path from "node:path";
import { accountOf, Ledger, LedgerEntry } from "../ledger/ledger";
import { FileLedgerStore } from "../ledger/ledger-file";
import { RedisLedgerStore } from "../ledger/ledger-redis";
import { closeSharedRedis, sharedRedis } from "../budget/redis-connection";
import { ProviderSettings } from "../inputs/settings";
import { duration, parse, str, UsageError } from "./args";
import { settingsFrom } from "./context";
import { deleteAll, DELETING_OPTIONS, writableReceipts } from "./delete";
import { CliIo, Output } from "./io";

export const SWEEP_HELP = `Usage: imagine-video sweep [--older-than 2h] [--dry-run] [--receipts FILE] [--reason TEXT] [--json]

Deletes the videos of the ledger of accepted generations (IMAGINE_REDIS_URL, else IMAGINE_LEDGER_PATH,
default .imagine/ledger.jsonl in the current folder) that no stack holds: started by a \`pulumi up\` that
died before handing them to the engine, and older than --older-than (default 2h, longer than any
\`pulumi up\` still waiting for them). Only this key's and endpoint's entries. Deletes are verified and
receipted as \`delete\` does, and their entries removed.
Options: --older-than DURATION (30m, 2h, 7d), --dry-run, --receipts FILE, --reason TEXT, --ledger-path FILE, --json
Exit: 0, 1 some failed (each named; their entries stay), 2 bad usage or configuration, 130 interrupted.`;

function stores(settings: ProviderSettings, cwd: string, warn: (m: string) => void) {
    const local = new FileLedgerStore(path.resolve(cwd, settings.ledgerPath), settings.ledgerPath, warn);
    const redis = settings.redisUrl ? sharedRedis(settings.redisUrl, warn) : undefined;
    return { local, shared: redis ? new RedisLedgerStore(redis, settings.ledgerDays) : undefined };
}

/** Entries of this account that are `accepted` and older than the cutoff; a `handed` mark in any store wins. */
async function orphans(
    s: ReturnType<typeof stores>,
    account: string,
    cutoff: number,
    warn: (m: string) => void,
): Promise<LedgerEntry[]> {
    const byId = new Map<string, LedgerEntry>();
    for (const store of [s.shared, s.local]) {
        if (!store) continue;
        let found: LedgerEntry[];
        try {
            found = await store.all();
        } catch (e) {
            warn(
                `${store.description} could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
            );
            continue;
        }
        for (const e of found) {
            const prior = byId.get(e.videoId);
            if (!prior || (e.state === "handed" && prior.state !== "handed")) byId.set(e.videoId, e);
        }
    }
    return [...byId.values()]
        .filter((e) => e.account === account && e.state === "accepted" && e.at <= cutoff)
        .sort((a, b) => a.at - b.at);
}

export async function sweepCommand(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(argv, {
        ...DELETING_OPTIONS,
        "older-than": { type: "string" },
        "ledger-path": { type: "string" },
    });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(SWEEP_HELP + "\n");
        return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}".`);
    const olderThan = duration(str(values, "older-than") ?? "2h", "--older-than");
    const settings = settingsFrom(values, io.env);
    const receipts = writableReceipts(values, out);
    if (receipts === undefined) return 2;
    const warn = (m: string) => out.error(`warning: ${m}`);
    const s = stores(settings, io.cwd, warn);
    const account = accountOf(settings.baseUrl, settings.token);
    const found = await orphans(s, account, Date.now() - olderThan, warn);
    const describe = (e: LedgerEntry) =>
        `${e.videoId} (${e.key.project}/${e.key.stack}/${e.key.name}, accepted ${new Date(e.at).toISOString()})`;
    if (values["dry-run"] || found.length === 0) {
        for (const e of found) {
            out.line(`would delete ${describe(e)}`);
            out.event({ event: "would-delete", id: e.videoId, ...e.key, acceptedAt: new Date(e.at).toISOString() });
        }
        out.line(
            `${values["dry-run"] ? "dry run: " : ""}${found.length} generation(s) in the ledger that no stack holds`,
        );
        out.event({ event: "summary", dryRun: values["dry-run"] === true, total: found.length });
        await closeSharedRedis();
        return 0;
    }
    const ledger = new Ledger({ ...s, account, days: settings.ledgerDays, warn, inFlight: new Set() });
    for (const e of found) out.line(`sweeping ${describe(e)}`);
    const items = (async function* () {
        for (const e of found) yield { id: e.videoId, props: { identity: e.key } };
    })();
    return deleteAll(settings, values, out, items, found.length, {
        receipts,
        reason: str(values, "reason") ?? "sweep: started by an interrupted pulumi up, held by no stack",
        onDone: async (item) => {
            const e = found.find((x) => x.videoId === item.id)!;
            await ledger.remove(e.key, e.videoId);
        },
    });
}
