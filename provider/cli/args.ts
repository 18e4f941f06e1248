/** Command-line parsing for `imagine-video` (node:util parseArgs), the flags every command shares, and usage errors. */
import { parseArgs } from "node:util";

/** Bad usage (unknown flag, missing argument, ...): exit 2, before any API call. */
export class UsageError extends Error {}

type Option = { type: "string" | "boolean"; short?: string; multiple?: boolean };
export type Options = Record<string, Option>;

/** Flags that override a setting of the provider, by their config key (environment variable in docs/cli.md). */
export const SETTING_FLAGS: Record<string, string> = {
    "base-url": "imagine:baseUrl",
    "requests-per-minute": "imagine:requestsPerMinute",
    "request-timeout-seconds": "imagine:requestTimeoutSeconds",
    "delete-timeout-minutes": "imagine:deleteTimeoutMinutes",
    "verify-deletes": "imagine:verifyDeletes",
    "ledger-path": "imagine:ledgerPath",
    "allow-insecure-http": "imagine:allowInsecureHttp",
};

/** The flags of every command that talks to the API. */
export const API_OPTIONS: Options = {
    "base-url": { type: "string" },
    "requests-per-minute": { type: "string" },
    "request-timeout-seconds": { type: "string" },
    "delete-timeout-minutes": { type: "string" },
    "verify-deletes": { type: "string" },
    "allow-insecure-http": { type: "boolean" },
    verbose: { type: "boolean" },
};

export const COMMON_OPTIONS: Options = {
    help: { type: "boolean", short: "h" },
    json: { type: "boolean" },
};

export type Values = Record<string, string | boolean | string[] | undefined>;

/** Parses `argv` against `options` (strict): unknown flags and missing values are usage errors. */
export function parse(argv: string[], options: Options): { values: Values; positionals: string[] } {
    const tokenFlag = argv.find((a) => /^--?(api[-_]?)?(token|key)(=|$)/i.test(a));
    if (tokenFlag !== undefined) {
        throw new UsageError(
            "there is no token flag (a token on the command line lands in shell history and `ps`): set the " +
                "IMAGINE_API_TOKEN environment variable instead.",
        );
    }
    try {
        const { values, positionals } = parseArgs({
            args: argv,
            options: { ...COMMON_OPTIONS, ...options },
            allowPositionals: true,
            strict: true,
        });
        return { values: values as Values, positionals };
    } catch (e) {
        throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, "."));
    }
}

/** A string flag's value, or undefined. */
export function str(values: Values, name: string): string | undefined {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
}

/** `2h`, `90m`, `30s`, `7d` (or a number of minutes) in milliseconds; throws UsageError. */
export function duration(text: string, flag: string): number {
    const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(text.trim());
    if (!m) {
        throw new UsageError(`${flag} "${text}" is not a duration: write e.g. 30m, 2h or 7d.`);
    }
    const unit = (m[2] ?? "m").toLowerCase();
    return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as "s" | "m" | "h" | "d"];
}
