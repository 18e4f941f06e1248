/** startEmulator: builds the state from the data folder, the fastify app and its hooks, and listens on loopback. */
import fs from "node:fs";
import type { Socket } from "node:net";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import multipart from "@fastify/multipart";
import { TokenCheck } from "./auth";
import { EmulatedClock } from "./clock";
import { closeAfterReply } from "./connection";
import { Deletions } from "./deletions";
import type { EmulatorContext } from "./context";
import { ERRORS, sendError } from "./errors";
import { VideoFiles } from "./files";
import { Lifecycle } from "./lifecycle";
import { resolveSwitches, SWITCH_NAMES, validateSwitches, type Switches } from "./options";
import { RateLimiter } from "./rate-limit";
import { randomSource } from "./random";
import { RequestStats, type RouteCounts } from "./request-stats";
import { registerAdmin } from "./routes/admin";
import { registerDelete } from "./routes/delete";
import { registerFiles } from "./routes/files";
import { registerGenerate } from "./routes/generate";
import { registerStatus } from "./routes/status";
import { UrlSigner } from "./signing";
import { Store } from "./store";
import { vendorGate } from "./vendor-gate";

export interface EmulatorOptions extends Partial<Switches> {
    /** folder holding the SQLite database and the video files; created if missing */
    dataDir: string;
    /** the API keys accepted as `Authorization: Bearer <key>` */
    tokens: string[];
    /** TCP port on 127.0.0.1; 0 (default) picks a free one */
    port?: number;
    /** real clock in ms (default Date.now); the emulated clock runs on top of it */
    now?: () => number;
}

export interface EmulatorStats {
    /** videos not deleted, in any state */
    videosStored: number;
    /** bytes of their files on disk (uploaded images and generated outputs) */
    bytesStored: number;
    /** vendor requests seen (everything but /__emulator/*) */
    requestsTotal: number;
    /** vendor requests by "METHOD /route/pattern" then status code ("reset"/"hang" for dropped ones; "*" = no route) */
    requests: RouteCounts;
    adminRequestsTotal: number;
    adminRequests: RouteCounts;
    /** the emulated clock, ISO 8601 */
    emulatedNow: string;
}

export interface RunningEmulator {
    /** http://127.0.0.1:PORT */
    url: string;
    port: number;
    stats(): Promise<EmulatorStats>;
    /** changes switches at run time, like POST /__emulator/config; throws on an invalid value */
    configure(partial: Partial<Switches>): void;
    /** closes the server (destroying open and hung connections) and the database */
    stop(): Promise<void>;
}

function pickSwitches(options: EmulatorOptions): Partial<Switches> {
    const out: Record<string, unknown> = {};
    for (const name of SWITCH_NAMES) if (options[name] !== undefined) out[name] = options[name];
    return out;
}

function checkOptions(options: EmulatorOptions): void {
    if (!options || typeof options.dataDir !== "string" || options.dataDir === "")
        throw new TypeError("dataDir is required");
    if (
        !Array.isArray(options.tokens) ||
        options.tokens.length === 0 ||
        options.tokens.some((t) => typeof t !== "string" || !/^\S+$/.test(t))
    ) {
        throw new TypeError("tokens must be a non-empty list of keys without spaces");
    }
}

function buildContext(options: EmulatorOptions): EmulatorContext {
    const switches = resolveSwitches(pickSwitches(options));
    fs.mkdirSync(options.dataDir, { recursive: true });
    const store = new Store(options.dataDir);
    try {
        const files = new VideoFiles(options.dataDir);
        files.sweep(store.allIds());
        const clock = new EmulatedClock(options.now ?? Date.now, store.clockAnchor(), switches.clockSpeed, (a) =>
            store.saveClockAnchor(a),
        );
        const ctx: EmulatorContext = {
            switches,
            store,
            files,
            clock,
            signer: new UrlSigner(store.signingSecret()),
            tokens: new TokenCheck(options.tokens),
            rateLimiter: new RateLimiter(),
            requests: new RequestStats(),
            lifecycle: new Lifecycle(store, files, clock, () => ctx.switches.outputBytes),
            deletions: new Deletions(store, files, clock),
            random: randomSource(switches.seed),
            hangTimers: new Set(),
            baseUrl: "",
        };
        return ctx;
    } catch (err) {
        store.close();
        throw err;
    }
}

function configureFn(ctx: EmulatorContext) {
    return (partial: Partial<Switches>): Switches => {
        const clean = validateSwitches(partial);
        if (clean.clockSpeed !== undefined && clean.clockSpeed !== ctx.clock.speed)
            ctx.clock.setSpeed(clean.clockSpeed);
        if (clean.rateLimitPerMinute !== undefined || clean.rateLimitBurst !== undefined) ctx.rateLimiter.reset();
        if (clean.seed !== undefined) ctx.random = randomSource(clean.seed);
        Object.assign(ctx.switches, clean);
        ctx.lifecycle.poke();
        return ctx.switches;
    };
}

function statsFn(ctx: EmulatorContext) {
    return (): EmulatorStats => {
        ctx.deletions.applyDue();
        ctx.lifecycle.settleAllDue();
        const totals = ctx.store.totals();
        const r = ctx.requests;
        return {
            videosStored: totals.videos,
            bytesStored: totals.bytes,
            requestsTotal: r.total,
            requests: structuredClone(r.byRoute),
            adminRequestsTotal: r.adminTotal,
            adminRequests: structuredClone(r.adminByRoute),
            emulatedNow: new Date(ctx.clock.now()).toISOString(),
        };
    };
}

function buildApp(
    ctx: EmulatorContext,
    stats: () => EmulatorStats,
    configure: (p: Partial<Switches>) => Switches,
): FastifyInstance {
    const app = Fastify({
        logger: false,
        routerOptions: { maxParamLength: 16384 },
        forceCloseConnections: true,
        bodyLimit: 1024 * 1024,
    });
    app.register(multipart, { throwFileSizeLimit: true });
    // Clients send bodiless POSTs (status, delete) with whatever Content-Type their library adds
    // (axios: application/x-www-form-urlencoded). The vendor ignores such bodies; so do we.
    app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, _body, done) => done(null, undefined));
    app.addHook("onRequest", vendorGate(ctx));
    // Counted when the answer is decided (onSend), not when it has been written out (onResponse): a
    // client that reads one byte and drops the stream, or a test that reads the stats as soon as its
    // client has the status line, still sees the request counted.
    app.addHook("onSend", async (request, reply, payload) => {
        if (request.dropped) return payload;
        const route = request.routeOptions.url ?? "*";
        ctx.requests.record(request.method, route, reply.statusCode);
        if (ctx.switches.log) process.stderr.write(`${request.method} ${route} ${reply.statusCode}\n`);
        return payload;
    });
    app.setErrorHandler((err: FastifyError, request, reply) => {
        const format = ctx.switches.codeFormat;
        const status = err.statusCode ?? 500;
        if (status === 413)
            return sendError(closeAfterReply(request, reply), ERRORS.tooLarge, "request body too large", format);
        if (status >= 400 && status < 500)
            return sendError(reply, ERRORS.invalidRequest, err.message || "invalid request", format);
        if (ctx.switches.log) process.stderr.write(`emulator error: ${err.message}\n`);
        return sendError(reply, ERRORS.storeUnavailable, "internal emulator error", format);
    });
    app.register(async (scope) => {
        registerGenerate(scope, ctx);
        registerStatus(scope, ctx);
        registerDelete(scope, ctx);
        registerFiles(scope, ctx);
        registerAdmin(scope, ctx, { stats, configure });
    });
    return app;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
    checkOptions(options);
    const ctx = buildContext(options);
    const stats = statsFn(ctx);
    const configure = configureFn(ctx);
    const app = buildApp(ctx, stats, configure);
    const sockets = new Set<Socket>();
    app.server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
    });
    try {
        await app.listen({ host: "127.0.0.1", port: options.port ?? 0 });
    } catch (err) {
        ctx.store.close();
        throw err;
    }
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    ctx.baseUrl = `http://127.0.0.1:${port}`;
    ctx.lifecycle.start();

    let stopping: Promise<void> | undefined;
    return {
        url: ctx.baseUrl,
        port,
        stats: async () => stats(),
        configure: (partial) => void configure(partial),
        stop: () =>
            (stopping ??= (async () => {
                ctx.lifecycle.stop();
                for (const timer of ctx.hangTimers) clearTimeout(timer);
                ctx.hangTimers.clear();
                const closed = app.close();
                for (const socket of sockets) socket.destroy();
                await closed;
                ctx.store.close();
            })()),
    };
}
