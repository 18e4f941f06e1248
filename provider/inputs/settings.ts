/** The provider's settings: config keys, environment variables, defaults and their validation. */
import { ImagineConfigError } from "../core/errors";

/** The provider's configuration, resolved from stack config first, then the environment. */
export interface ProviderSettings {
    token: string;
    baseUrl: string;
    requestTimeoutMs: number;
    minPollMs: number;
    maxPollMs: number;
    deleteTimeoutMs: number;
    /**
     * The outer bound of one request's wait for its turn in the key's request budget (the queue is
     * outside the vendor deadline `deleteTimeoutMs`, but never unbounded).
     */
    queueTimeoutMs: number;
    /** The request budget of the API key, shared by every resource in the provider process. */
    requestsPerMinute: number;
    /** When a generation is expected to end; polling is planned around it. */
    expectedMs: number;
    /** How a delete is confirmed: the stored file URL then a status read, always a status read, or not at all. */
    verifyDeletes: VerifyDeletes;
    /** The JSON Lines file receiving one receipt per deleted video (relative to the program folder); unset = none. */
    deletionLog?: string;
    /** Whether an `http://` base URL to a host other than this machine is allowed (the token would travel in clear text). */
    allowInsecureHttp: boolean;
    /**
     * Redis shared by every provider process using the key, on any runner: the key's request budget
     * (then `requestsPerMinute` is the fleet's total) and the ledger of accepted generations. A secret:
     * it may carry a password. Unset: both are local to the process.
     */
    redisUrl?: string;
    /** How long an entry of the ledger of accepted generations is kept, in days. */
    ledgerDays: number;
    /** The file ledger of accepted generations (used without Redis, or while it is down); relative to the program folder. */
    ledgerPath: string;
}

/** `file`: the stored file URL (no API request), a status read when it cannot tell; `status`: a status read; `off`. */
export type VerifyDeletes = "file" | "status" | "off";
export const VERIFY_DELETES_MODES: readonly VerifyDeletes[] = ["file", "status", "off"];

/** Reads one stack config value, e.g. `imagine:apiToken`; undefined when unset. */
export type ConfigGetter = (key: string) => string | undefined;

interface NumberSetting {
    key: string;
    env: string;
    defaultValue: number;
    /** Multiplier from the setting's unit to milliseconds. */
    toMs: number;
    unit: string;
}

export const SETTINGS = {
    apiToken: { key: "imagine:apiToken", env: "IMAGINE_API_TOKEN" },
    baseUrl: { key: "imagine:baseUrl", env: "IMAGINE_BASE_URL", defaultValue: "https://api.vyro.ai" },
    requestTimeout: {
        key: "imagine:requestTimeoutSeconds",
        env: "IMAGINE_REQUEST_TIMEOUT_SECONDS",
        defaultValue: 30,
        toMs: 1000,
        unit: "seconds",
    },
    minPoll: {
        key: "imagine:minPollSeconds",
        env: "IMAGINE_MIN_POLL_SECONDS",
        defaultValue: 5,
        toMs: 1000,
        unit: "seconds",
    },
    maxPoll: {
        key: "imagine:maxPollSeconds",
        env: "IMAGINE_MAX_POLL_SECONDS",
        defaultValue: 60,
        toMs: 1000,
        unit: "seconds",
    },
    deleteTimeout: {
        key: "imagine:deleteTimeoutMinutes",
        env: "IMAGINE_DELETE_TIMEOUT_MINUTES",
        defaultValue: 20,
        toMs: 60000,
        unit: "minutes",
    },
    queueTimeout: {
        key: "imagine:queueTimeoutMinutes",
        env: "IMAGINE_QUEUE_TIMEOUT_MINUTES",
        defaultValue: 60,
        toMs: 60000,
        unit: "minutes",
    },
    requestsPerMinute: {
        key: "imagine:requestsPerMinute",
        env: "IMAGINE_REQUESTS_PER_MINUTE",
        defaultValue: 50,
        toMs: 1,
        unit: "requests a minute",
    },
    expected: {
        key: "imagine:expectedMinutes",
        env: "IMAGINE_EXPECTED_MINUTES",
        defaultValue: 12,
        toMs: 60000,
        unit: "minutes",
    },
    verifyDeletes: { key: "imagine:verifyDeletes", env: "IMAGINE_VERIFY_DELETES", defaultValue: "file" },
    deletionLog: { key: "imagine:deletionLog", env: "IMAGINE_DELETION_LOG" },
    allowInsecureHttp: { key: "imagine:allowInsecureHttp", env: "IMAGINE_ALLOW_INSECURE_HTTP", defaultValue: false },
    redisUrl: { key: "imagine:redisUrl", env: "IMAGINE_REDIS_URL" },
    ledgerDays: { key: "imagine:ledgerDays", env: "IMAGINE_LEDGER_DAYS", defaultValue: 7, toMs: 1, unit: "days" },
    ledgerPath: { key: "imagine:ledgerPath", env: "IMAGINE_LEDGER_PATH", defaultValue: ".imagine/ledger.jsonl" },
} as const;

/**
 * Resolves and validates every setting. Throws ImagineConfigError naming the key, its environment
 * variable and the fix. The token's value never appears in a message.
 */
export function resolveSettings(get: ConfigGetter, env: NodeJS.ProcessEnv = process.env): ProviderSettings {
    const read = (s: { key: string; env: string }) => nonEmpty(get(s.key)) ?? nonEmpty(env[s.env]);

    const token = read(SETTINGS.apiToken);
    if (token === undefined) {
        throw new ImagineConfigError(
            "The Imagine API token is not set. Set it with `pulumi config set --secret imagine:apiToken <key>` " +
                "or the IMAGINE_API_TOKEN environment variable.",
        );
    }
    if (!/^[\x21-\x7e]+$/.test(token)) {
        throw new ImagineConfigError(
            "The Imagine API token (imagine:apiToken or IMAGINE_API_TOKEN) is malformed: it contains spaces, line " +
                "breaks or characters outside printable ASCII. Copy the key again (keys look like `vk-` and letters " +
                "and digits) and set it with `pulumi config set --secret imagine:apiToken <key>`.",
        );
    }

    const baseUrl = read(SETTINGS.baseUrl) ?? SETTINGS.baseUrl.defaultValue;
    let parsed: URL | undefined;
    try {
        parsed = new URL(baseUrl);
    } catch {
        parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.search || parsed.hash) {
        throw new ImagineConfigError(
            `imagine:baseUrl (or IMAGINE_BASE_URL) is "${baseUrl}", which is not an http(s) URL without query. ` +
                "Set it to https://api.vyro.ai, or to the emulator's URL, e.g. http://127.0.0.1:8080.",
        );
    }

    const allowInsecureHttp = readBoolean(read, SETTINGS.allowInsecureHttp);
    if (parsed.protocol === "http:" && !isLoopback(parsed.hostname) && !allowInsecureHttp) {
        throw new ImagineConfigError(
            `imagine:baseUrl (or IMAGINE_BASE_URL) is an http:// URL to ${parsed.host}, another machine: the API token would travel ` +
                "in clear text. Use https:// (the Imagine API is https://api.vyro.ai); for an emulator or a gateway on a trusted " +
                "network, allow it explicitly with `pulumi config set imagine:allowInsecureHttp true` (or IMAGINE_ALLOW_INSECURE_HTTP=true).",
        );
    }

    const settings: ProviderSettings = {
        token,
        baseUrl: baseUrl.replace(/\/+$/, ""),
        requestTimeoutMs: readNumber(read, SETTINGS.requestTimeout),
        minPollMs: readNumber(read, SETTINGS.minPoll),
        maxPollMs: readNumber(read, SETTINGS.maxPoll),
        deleteTimeoutMs: readNumber(read, SETTINGS.deleteTimeout),
        queueTimeoutMs: readNumber(read, SETTINGS.queueTimeout),
        requestsPerMinute: readNumber(read, SETTINGS.requestsPerMinute),
        expectedMs: readNumber(read, SETTINGS.expected),
        verifyDeletes: readVerifyDeletes(read),
        deletionLog: read(SETTINGS.deletionLog)?.trim(),
        allowInsecureHttp,
        ledgerDays: readNumber(read, SETTINGS.ledgerDays),
        ledgerPath: read(SETTINGS.ledgerPath) ?? SETTINGS.ledgerPath.defaultValue,
    };
    if (settings.maxPollMs < settings.minPollMs) {
        throw new ImagineConfigError(
            `imagine:maxPollSeconds (${settings.maxPollMs / 1000}) is below imagine:minPollSeconds ` +
                `(${settings.minPollMs / 1000}). Set the maximum at or above the minimum.`,
        );
    }
    const redisUrl = read(SETTINGS.redisUrl);
    if (redisUrl !== undefined) {
        settings.redisUrl = checkRedisUrl(redisUrl.trim());
    }
    return settings;
}

function readVerifyDeletes(read: (s: { key: string; env: string }) => string | undefined): VerifyDeletes {
    const s = SETTINGS.verifyDeletes;
    const raw = read(s);
    if (raw === undefined) {
        return s.defaultValue;
    }
    const mode = raw.trim().toLowerCase();
    if (!(VERIFY_DELETES_MODES as readonly string[]).includes(mode)) {
        throw new ImagineConfigError(
            `${s.key} (or ${s.env}) is "${raw}": it must be one of ${VERIFY_DELETES_MODES.join(", ")} ` +
                `(default ${s.defaultValue}: check the stored file link, then the status).`,
        );
    }
    return mode as VerifyDeletes;
}

/**
 * A redis:// or rediss:// URL with a host, and a database number if it names one. The message
 * never shows the value: it may hold a password.
 */
function checkRedisUrl(url: string): string {
    let u: URL | undefined;
    try {
        u = new URL(url);
    } catch {
        u = undefined;
    }
    const problem = !u
        ? "is not a URL"
        : u.protocol !== "redis:" && u.protocol !== "rediss:"
          ? `has the scheme "${u.protocol}", not redis: or rediss:`
          : !u.hostname
            ? "names no host"
            : !/^(\/\d*)?$/.test(u.pathname)
              ? "names a database that is not a number"
              : undefined;
    if (problem) {
        throw new ImagineConfigError(
            `imagine:redisUrl (or IMAGINE_REDIS_URL) ${problem} (value not shown: it may hold a password). Set it ` +
                "with `pulumi config set --secret imagine:redisUrl redis://:PASSWORD@HOST:6379/0` (rediss:// for TLS), " +
                "or unset it to give each provider process its own request budget.",
        );
    }
    return url;
}

function readNumber(read: (s: { key: string; env: string }) => string | undefined, s: NumberSetting): number {
    const raw = read(s);
    if (raw === undefined) {
        return s.defaultValue * s.toMs;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) {
        throw new ImagineConfigError(
            `${s.key} (or ${s.env}) is "${raw}": it must be a positive number of ${s.unit} (default ${s.defaultValue}).`,
        );
    }
    return n * s.toMs;
}

function readBoolean(
    read: (s: { key: string; env: string }) => string | undefined,
    s: { key: string; env: string; defaultValue: boolean },
): boolean {
    const raw = read(s);
    if (raw === undefined) {
        return s.defaultValue;
    }
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes"].includes(v)) {
        return true;
    }
    if (["false", "0", "no"].includes(v)) {
        return false;
    }
    throw new ImagineConfigError(`${s.key} (or ${s.env}) must be true or false (default ${s.defaultValue}).`);
}

/** This machine: `localhost` (and `*.localhost`), 127.0.0.0/8, ::1. */
function isLoopback(hostname: string): boolean {
    const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return (
        h === "localhost" ||
        h.endsWith(".localhost") ||
        /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
        h === "::1" ||
        h === "0:0:0:0:0:0:0:1"
    );
}

function nonEmpty(v: string | undefined): string | undefined {
    return v === undefined || v.trim() === "" ? undefined : v;
}
