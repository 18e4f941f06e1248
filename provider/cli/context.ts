/**
 * The provider's settings for a command (the same environment variables as the provider, flags on
 * top; never a token flag), and the provider's own client over them: the key's request budget (shared
 * through Redis when IMAGINE_REDIS_URL is set), the RequestSender, ImagineClient and an
 * OperationContext for `deleteFromVendor`. A Ctrl-C gate stops deletes that have sent nothing yet.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as fs from "node:fs";
import * as path from "node:path";
import { RequestBudget, Priority } from "../budget/budget";
import { ImagineClient } from "../api/client";
import { randomUUID } from "node:crypto";
import {
    ImagineAuthError,
    ImagineConnectionError,
    ImagineError,
    ImagineTimeoutError,
    ImagineVideoNotFoundError,
} from "../core/errors";
import { createKeyBudget } from "../budget/key-budget";
import { OperationContext } from "../lifecycle/context";
import { closeSharedRedis } from "../budget/redis-connection";
import { RequestSender } from "../api/request-sender";
import { ProviderSettings, resolveSettings } from "../inputs/settings";
import { SETTING_FLAGS, Values } from "./args";
import { Output } from "./io";

/** The settings from the environment, with flags overriding; throws ImagineConfigError (exit 2). */
export function settingsFrom(values: Values, env: NodeJS.ProcessEnv): ProviderSettings {
    const byKey = new Map<string, string>();
    for (const [flag, key] of Object.entries(SETTING_FLAGS)) {
        const v = values[flag];
        if (typeof v === "string") byKey.set(key, v);
        else if (v === true) byKey.set(key, "true");
    }
    return resolveSettings((key) => byKey.get(key), env);
}

/** Thrown into a delete that had not sent its first request when Ctrl-C came: it is "not done". */
export class NotSentError extends ImagineError {
    constructor() {
        super("interrupted before its first request was sent");
    }
}

/** Which delete a request belongs to, and whether that delete has sent a request yet. */
const current = new AsyncLocalStorage<{ sent: boolean }>();

/** Runs `f` as one delete: after Ctrl-C its requests are refused until one has been sent. */
export function asOneDelete<T>(f: () => Promise<T>): Promise<T> {
    return current.run({ sent: false }, f);
}

/** Ctrl-C, as the budget sees it. */
export class Gate {
    closed = false;
    private readonly waiters: (() => void)[] = [];
    close(): void {
        if (this.closed) return;
        this.closed = true;
        this.waiters.splice(0).forEach((w) => w());
    }
    whenClosed(f: () => void): void {
        if (this.closed) f();
        else this.waiters.push(f);
    }
}

/**
 * The key's budget, except that after Ctrl-C a delete that has sent nothing yet gets no grant (it
 * stops waiting at once); a delete already sent keeps its turn for its re-sends and verification.
 */
function gatedBudget(gate: Gate) {
    return class GatedBudget extends RequestBudget {
        override acquire(priority: Priority): Promise<void> {
            const mine = current.getStore();
            if (!mine || mine.sent) return super.acquire(priority);
            if (gate.closed) return Promise.reject(new NotSentError());
            return new Promise<void>((resolve, reject) => {
                let settled = false;
                gate.whenClosed(() => {
                    if (!settled && !mine.sent) {
                        settled = true;
                        reject(new NotSentError());
                    }
                });
                void super.acquire(priority).then(() => {
                    if (settled) return; // refused meanwhile: the grant goes unused
                    settled = true;
                    if (gate.closed && !mine.sent) {
                        reject(new NotSentError());
                        return;
                    }
                    mine.sent = true;
                    resolve();
                });
            });
        }
    };
}

export interface ApiContext {
    settings: ProviderSettings;
    client: ImagineClient;
    sender: RequestSender;
    budget: RequestBudget;
    /** For deleteFromVendor: receipts are the CLI's own (settings.deletionLog unset here). */
    ops: OperationContext;
    close(): Promise<void>;
}

/** The provider's client for these settings; `gate` makes deletes interruptible. */
export function connect(settings: ProviderSettings, out: Output, verbose: boolean, gate?: Gate): ApiContext {
    const io = out.io;
    const warn = (m: string) => out.error(`warning: ${m}`);
    const log = verbose ? (m: string) => out.error(m) : () => undefined;
    const Budget = gate ? gatedBudget(gate) : undefined;
    const { budget, waits } = createKeyBudget(settings, {
        clock: io.clock,
        warn,
        budget: Budget ? (rpm, clock, shared) => new Budget(rpm, clock, shared) : undefined,
    });
    const sender = new RequestSender({
        budget,
        baseUrl: settings.baseUrl,
        token: settings.token,
        requestTimeoutMs: settings.requestTimeoutMs,
        clock: io.clock,
        onRetry: ({ operation, attempt, delayMs, error }) =>
            log(
                `${operation}: ${error.constructor.name} (${error.httpStatus ?? "no answer"}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)}s`,
            ),
    });
    const client = new ImagineClient(sender);
    return {
        settings,
        client,
        sender,
        budget,
        ops: {
            client,
            settings: { ...settings, deletionLog: undefined },
            clock: io.clock,
            log,
            warn,
            cwd: io.cwd,
            waits,
        },
        close: () => closeSharedRedis(),
    };
}

/** The receipts file: `--receipts`, else IMAGINE_DELETION_LOG, else imagine-deletions.jsonl (in the current folder). */
export function receiptsPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
    const configured = flag ?? (env.IMAGINE_DELETION_LOG?.trim() || undefined) ?? "imagine-deletions.jsonl";
    return path.resolve(cwd, configured);
}

/**
 * Why `file` could not be appended to, or undefined when it can: an existing file must be writable, a
 * new one needs its nearest existing folder writable. Creates nothing (a dry run leaves no trace).
 */
export function unwritable(file: string): string | undefined {
    try {
        const st = fs.statSync(file);
        if (st.isDirectory()) return "it is a folder";
        fs.accessSync(file, fs.constants.W_OK);
        return undefined;
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT") return code ?? String(e);
    }
    let dir = path.dirname(file);
    for (;;) {
        try {
            const st = fs.statSync(dir);
            if (!st.isDirectory()) return `${dir} is not a folder`;
            fs.accessSync(dir, fs.constants.W_OK);
            return undefined;
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== "ENOENT") return `${dir}: ${code ?? String(e)}`;
        }
        const up = path.dirname(dir);
        if (up === dir) return "no folder of it exists";
        dir = up;
    }
}

/** What one status read of a made-up id says about the endpoint and the token. */
export interface ApiProbe {
    reachable: boolean;
    /** undefined: not known (no answer, or an answer that is not the vendor's). */
    tokenAccepted?: boolean;
    message: string;
}

/**
 * One status read of a made-up id, without retries: the vendor's not-found means the endpoint answers
 * and the token is accepted; 401/403/406 that it is refused; no answer that the endpoint is unreachable.
 */
export async function probeApi(api: ApiContext, clock: { now(): number }): Promise<ApiProbe> {
    try {
        await api.client.getStatus(`imagine-doctor-${randomUUID()}`, clock.now());
        return { reachable: true, message: "a made-up id was answered as a video: is this the Imagine API?" };
    } catch (e) {
        const message = (e as Error).message;
        if (e instanceof ImagineVideoNotFoundError) {
            return { reachable: true, tokenAccepted: true, message: "a made-up id answered the vendor's not-found" };
        }
        if (e instanceof ImagineAuthError) return { reachable: true, tokenAccepted: false, message };
        if (e instanceof ImagineConnectionError || e instanceof ImagineTimeoutError) {
            return { reachable: false, message };
        }
        return { reachable: true, message: `the answer was not the vendor's not-found: ${message}` };
    }
}

/** Before the first delete: exit-2 material (an endpoint that does not answer, a refused token), else undefined. */
export async function preflight(api: ApiContext, clock: { now(): number }): Promise<string | undefined> {
    const p = await probeApi(api, clock);
    if (!p.reachable) return `the endpoint ${api.settings.baseUrl} does not answer; nothing was deleted. ${p.message}`;
    if (p.tokenAccepted === false) return `the API token was refused; nothing was deleted. ${p.message}`;
    return undefined;
}
