/**
 * `imagine-video doctor`: one line per check with its verdict, before a long `pulumi up` finds out:
 * settings, endpoint reachable (through the proxy variables), token accepted (a status read of a
 * made-up id answers the vendor's not-found, not 401), Redis when set (reachable, scripting, persistence,
 * eviction, clock offset), the ledger path writable, Node and @pulumi/pulumi versions. Exit 1 if any fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { connectRedis, disconnect, redisUrlForDisplay } from "../budget/redis-connection";
import { ProviderSettings } from "../inputs/settings";
import { persists, readDurability } from "../ledger/redis-durability";
import { API_OPTIONS, parse, UsageError } from "./args";
import { connect, probeApi, settingsFrom, unwritable } from "./context";
import { CliIo, Output } from "./io";

export const DOCTOR_HELP = `Usage: imagine-video doctor [--json] [--base-url URL] [--ledger-path FILE]

Checks, one line each (ok, warn or FAIL): the settings, the endpoint (through HTTPS_PROXY etc. when
set), the token (a status read of a made-up id must answer the vendor's not-found, not 401), Redis when
IMAGINE_REDIS_URL is set (reachable, Lua scripting, persistence, no eviction, clock offset), the ledger
path writable, Node and @pulumi/pulumi versions in range. One API request in all.
Exit: 0 no check failed, 1 some failed, 2 bad usage.`;

type Verdict = "ok" | "warn" | "FAIL";

/** Node and the SDK versions this package supports (package.json engines and peerDependencies). */
const NODE_RANGE = ">=20";
const PULUMI_RANGE = ">=3.216.0 <4.0.0";

export async function doctorCommand(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(argv, { ...API_OPTIONS, "ledger-path": { type: "string" } });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(DOCTOR_HELP + "\n");
        return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}".`);
    let failed = 0;
    const report = (check: string, verdict: Verdict, detail: string) => {
        if (verdict === "FAIL") failed++;
        out.event({ check, verdict: verdict.toLowerCase(), detail });
        out.line(`${verdict.padEnd(4)}  ${check}: ${detail}`);
    };

    let settings: ProviderSettings | undefined;
    try {
        settings = settingsFrom(values, io.env);
        report("settings", "ok", `endpoint ${settings.baseUrl}, ${settings.requestsPerMinute} requests a minute`);
    } catch (e) {
        report("settings", "FAIL", (e as Error).message);
    }
    if (settings) await checkApi(settings, out, report);
    if (settings?.redisUrl) await checkRedis(settings.redisUrl, out, report);

    const ledger = path.resolve(io.cwd, settings?.ledgerPath ?? ".imagine/ledger.jsonl");
    const cannot = unwritable(ledger);
    report(
        "ledger path",
        cannot ? "FAIL" : "ok",
        cannot ? `${ledger} cannot be written (${cannot})` : `${ledger} is writable`,
    );

    report(
        "node",
        satisfies(process.versions.node, NODE_RANGE) ? "ok" : "FAIL",
        `Node ${process.versions.node} (supported: ${NODE_RANGE})`,
    );
    const sdk = pulumiVersion(io.cwd);
    report(
        "@pulumi/pulumi",
        sdk === undefined ? "warn" : satisfies(sdk, PULUMI_RANGE) ? "ok" : "FAIL",
        sdk === undefined
            ? `not installed here (a Pulumi program needs ${PULUMI_RANGE}; the CLI does not)`
            : `${sdk} (supported: ${PULUMI_RANGE})`,
    );
    out.line(failed === 0 ? "no check failed" : `${failed} check(s) failed`);
    return failed > 0 ? 1 : 0;
}

/** One status read of a made-up id: the endpoint is reachable, and the token accepted when it says not-found. */
async function checkApi(settings: ProviderSettings, out: Output, report: (c: string, v: Verdict, d: string) => void) {
    const api = connect(settings, out, false);
    const via = api.sender.proxy ? ` through the proxy ${api.sender.proxy}` : "";
    try {
        const p = await probeApi(api, out.io.clock);
        report(
            "endpoint",
            p.reachable ? "ok" : "FAIL",
            p.reachable
                ? `${settings.baseUrl} answers${via}`
                : `${settings.baseUrl} is not reachable${via}: ${p.message}`,
        );
        report(
            "token",
            p.tokenAccepted ? "ok" : "FAIL",
            p.tokenAccepted
                ? `accepted (${p.message})`
                : p.reachable
                  ? p.tokenAccepted === false
                      ? `refused: ${p.message}`
                      : p.message
                  : "not checked (no answer from the endpoint)",
        );
    } finally {
        await api.close();
    }
}

async function checkRedis(url: string, out: Output, report: (c: string, v: Verdict, d: string) => void) {
    const shown = redisUrlForDisplay(url);
    let client;
    try {
        client = connectRedis(url, () => undefined);
    } catch (e) {
        report("redis", "FAIL", `${shown}: ${(e as Error).message}`);
        return;
    }
    try {
        const ready = await new Promise<boolean>((resolve) => {
            if (client.status === "ready") return resolve(true);
            const timer = setTimeout(() => resolve(false), 3000);
            client.once("ready", () => {
                clearTimeout(timer);
                resolve(true);
            });
        });
        if (!ready) {
            report("redis", "FAIL", `${shown} is unreachable (the provider would go on with a local budget)`);
            return;
        }
        const sent = Date.now();
        const [seconds, micros] = (await client.time()).map(Number);
        const received = Date.now();
        report("redis", "ok", `${shown} answers (${received - sent} ms)`);
        try {
            const one = await client.eval("return 1", 0);
            report("redis scripting", one === 1 ? "ok" : "FAIL", one === 1 ? "Lua scripts run" : "EVAL answered oddly");
        } catch (e) {
            report(
                "redis scripting",
                "FAIL",
                `EVAL refused (${(e as Error).message}): the shared budget needs Lua scripts`,
            );
        }
        const d = await readDurability(client);
        const kept = persists(d);
        report(
            "redis persistence",
            kept === true ? "ok" : kept === false ? "FAIL" : "warn",
            d.aof
                ? "append-only file on"
                : kept
                  ? `RDB snapshots (save ${d.save})`
                  : kept === false
                    ? "off: the ledger of accepted generations would be lost when Redis restarts"
                    : "unknown (this Redis does not say): the ledger needs appendonly yes or RDB saves",
        );
        const policy = d.evictionPolicy ?? "unknown";
        report(
            "redis eviction",
            policy === "noeviction" ? "ok" : policy === "unknown" ? "warn" : "FAIL",
            `maxmemory-policy ${policy}${policy === "noeviction" ? "" : ": budget and ledger keys could be evicted (set noeviction)"}`,
        );
        const offset = seconds * 1000 + micros / 1000 - (sent + received) / 2;
        const abs = Math.abs(offset);
        report(
            "redis clock",
            abs <= 1000 ? "ok" : abs <= 5000 ? "warn" : "FAIL",
            `this machine's clock is ${Math.round(abs)} ms ${offset > 0 ? "behind" : "ahead of"} Redis's`,
        );
    } catch (e) {
        report("redis", "FAIL", `${shown}: ${(e as Error).message}`);
    } finally {
        await disconnect(client);
    }
}

/** The @pulumi/pulumi a program in `cwd` would use, else the one beside this package. */
function pulumiVersion(cwd: string): string | undefined {
    for (const from of [cwd, __dirname]) {
        try {
            const file = require.resolve("@pulumi/pulumi/package.json", { paths: [from] });
            return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
        } catch {
            /* not there */
        }
    }
    return undefined;
}

/** Whether `version` is in `range` (space-separated `>=x.y.z` / `<x.y.z` comparators only). */
export function satisfies(version: string, range: string): boolean {
    const parts = (v: string) => v.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
    const cmp = (a: number[], b: number[]) => {
        for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
        return 0;
    };
    const v = parts(version);
    return range.split(/\s+/).every((c) => {
        const m = /^(>=|<=|>|<|=)?(.+)$/.exec(c)!;
        const d = cmp(v, parts(m[2]));
        return { ">=": d >= 0, "<=": d <= 0, ">": d > 0, "<": d < 0, "=": d === 0 }[m[1] ?? "="]!;
    });
}
