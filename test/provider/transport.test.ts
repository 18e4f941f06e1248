/**
 * Transport, over real sockets: the standard proxy variables (a real little forward and CONNECT proxy
 * in this file), NO_PROXY, an https API reached through a CONNECT tunnel, and failures that mean the
 * request never left the machine (a certificate that is not trusted, a name that does not resolve):
 * a generation is then not reported as possibly paid.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import { countRequests, Harness, PROVIDER, startHarness, TOKEN } from "./harness";

const ROOT = path.resolve(__dirname, "..", "..");
const GATEWAY = "imagine-gw.test"; // plain http, reachable only through the proxy
const API = "api.imagine.test"; // https, reachable only through the proxy
const text = { prompt: "A lighthouse in a storm", style: "kling-1.0-pro", __provider: PROVIDER };

let h: Harness;
let proxy: http.Server;
let tlsServer: tls.Server;
const proxied: string[] = [];
const PROXY_VARS = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];
const savedEnv: Record<string, string | undefined> = {};
let proxyUrl = "";
/** Tunnel and TLS sockets, destroyed at the end (servers' close waits for them). */
const sockets = new Set<net.Socket>();
const track = (...ss: net.Socket[]) =>
    ss.forEach((x) => {
        sockets.add(x);
        x.on("close", () => sockets.delete(x));
    });
let certFile = "";

/** Where the proxy sends a host: the gateway name to the emulator, the API name to the TLS server. */
const route = (host: string): number | undefined =>
    host === GATEWAY
        ? Number(new URL(h.emulator.url).port)
        : host === API
          ? (tlsServer.address() as net.AddressInfo).port
          : undefined;

beforeAll(async () => {
    h = await startHarness();
    for (const k of PROXY_VARS) savedEnv[k] = process.env[k];
    // A self-signed certificate for the API name: trusted only by a process given it in NODE_EXTRA_CA_CERTS.
    const keyFile = path.join(h.dataDir, "key.pem");
    certFile = path.join(h.dataDir, "cert.pem");
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            keyFile,
            "-out",
            certFile,
            "-days",
            "2",
            "-subj",
            `/CN=${API}`,
            "-addext",
            `subjectAltName=DNS:${API}`,
        ],
        { stdio: "ignore" },
    );
    // TLS in front of the emulator: what an https API looks like.
    tlsServer = tls.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, (socket) => {
        const upstream = net.connect(Number(new URL(h.emulator.url).port), "127.0.0.1");
        track(socket, upstream);
        socket.pipe(upstream).pipe(socket);
        socket.on("error", () => upstream.destroy());
        upstream.on("error", () => socket.destroy());
    });
    await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", () => r()));
    // The proxy: absolute-URI requests are forwarded (HTTP_PROXY), CONNECT is tunnelled (HTTPS_PROXY).
    proxy = http.createServer((req, res) => {
        proxied.push(`${req.method} ${req.url}`);
        const target = new URL(req.url ?? "");
        const port = route(target.hostname);
        if (port === undefined) {
            res.writeHead(502).end("unknown host");
            return;
        }
        const up = http.request(
            {
                host: "127.0.0.1",
                port,
                method: req.method,
                path: target.pathname + target.search,
                headers: req.headers,
            },
            (r) => {
                res.writeHead(r.statusCode ?? 502, r.headers);
                r.pipe(res);
            },
        );
        up.on("error", () => res.destroy());
        req.pipe(up);
    });
    proxy.on("connect", (req: http.IncomingMessage, client: net.Socket) => {
        proxied.push(`CONNECT ${req.url}`);
        const [host, port] = (req.url ?? "").split(":");
        const to = route(host);
        if (to === undefined || port !== "443") {
            client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
            return;
        }
        track(client);
        const upstream = net.connect(to, "127.0.0.1", () => {
            client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            upstream.pipe(client).pipe(upstream);
        });
        track(upstream);
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
    for (const k of PROXY_VARS) {
        if (savedEnv[k] === undefined) delete process.env[k];
        else process.env[k] = savedEnv[k];
    }
    for (const x of sockets) x.destroy();
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await new Promise((r) => tlsServer?.close(r));
    await h?.stop();
});
beforeEach(() => {
    for (const k of PROXY_VARS) delete process.env[k];
    proxied.length = 0;
});

it("HTTP_PROXY: requests go through the forward proxy, create to destroy, the file probes of a verified delete included", async () => {
    process.env.HTTP_PROXY = proxyUrl;
    const p = await h.handlers({ "imagine:baseUrl": `http://${GATEWAY}`, "imagine:allowInsecureHttp": "true" });
    const { id, outs } = await p.create(text);
    expect(outs.status).toBe("finished");
    // The stored link on a host only the proxy reaches (as a vendor's storage behind a corporate proxy).
    const link = String(outs.videoUrl).replace(h.emulator.url, `http://${GATEWAY}`);
    await p.delete(id, { ...outs, videoUrl: link });
    expect(proxied).toContain(`POST http://${GATEWAY}/v2/video/text-to-video`);
    expect(proxied).toContain(`DELETE http://${GATEWAY}/v2/video/delete/${id}`);
    // The stored link is probed through the proxy too (before the delete, and after it as proof).
    expect(proxied.filter((r) => r.startsWith(`GET http://${GATEWAY}/files/${id}/`))).toHaveLength(2);
    expect(h.logs).toContain(`video ${id}: deleted (DELETE), confirmed: its file link answers 404`);
    expect((await h.emulator.stats()).videosStored).toBe(0);
});

it.each(["http_proxy", "ALL_PROXY", "all_proxy"])(
    "%s: the lower-case and catch-all forms route through the proxy too, as the README says",
    async (variable) => {
        process.env[variable] = proxyUrl;
        const p = await h.handlers({ "imagine:baseUrl": `http://${GATEWAY}`, "imagine:allowInsecureHttp": "true" });
        const { id, outs } = await p.create({ ...text, waitForCompletion: false });
        await p.delete(id, outs);
        expect(proxied).toContain(`POST http://${GATEWAY}/v2/video/text-to-video`);
        expect(proxied).toContain(`DELETE http://${GATEWAY}/v2/video/delete/${id}`);
    },
);

it("NO_PROXY: a listed host is reached directly; a name that does not resolve is a request never sent, not a possibly-paid video", async () => {
    process.env.HTTP_PROXY = proxyUrl;
    process.env.NO_PROXY = `localhost,${GATEWAY}`;
    const before = (await h.emulator.stats()).requestsTotal;
    const p = await h.handlers(
        { "imagine:baseUrl": `http://${GATEWAY}`, "imagine:allowInsecureHttp": "true" },
        { backoff: { baseDelayMs: 5, maxDelayMs: 10 } },
    );
    const err = await p.create(text).then(
        () => undefined,
        (e: Error & { requestMayHaveArrived?: boolean }) => e,
    );
    expect(proxied).toEqual([]);
    expect(err?.name).toBe("ImagineConnectionError");
    expect(err?.requestMayHaveArrived).toBe(false);
    expect(err?.message).toContain("could not be resolved");
    expect(err?.message).toContain("the request was not sent");
    expect(err?.message).not.toContain("may have accepted");
    expect((await h.emulator.stats()).requestsTotal).toBe(before);
});

it("HTTPS_PROXY: an https API is reached through a CONNECT tunnel; a certificate that is not trusted is a request never sent", async () => {
    process.env.HTTPS_PROXY = proxyUrl;
    const before = await h.emulator.stats();
    const p = await h.handlers(
        { "imagine:baseUrl": `https://${API}` },
        { backoff: { baseDelayMs: 5, maxDelayMs: 10 } },
    );
    const create = await p.create(text).then(
        () => undefined,
        (e: Error & { requestMayHaveArrived?: boolean }) => e,
    );
    expect(proxied[0]).toBe(`CONNECT ${API}:443`);
    expect(create?.name).toBe("ImagineConnectionError");
    expect(create?.requestMayHaveArrived).toBe(false);
    expect(create?.message).toContain("TLS certificate");
    expect(create?.message).toContain("NODE_EXTRA_CA_CERTS");
    // A delete fails the same way, at once (a few quick retries), not after imagine:deleteTimeoutMinutes.
    const started = Date.now();
    await expect(p.delete("some-id", { videoId: "some-id" })).rejects.toThrow("TLS certificate");
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await h.emulator.stats()).requestsTotal).toBe(before.requestsTotal);
});

it("HTTPS_PROXY: with the certificate trusted (NODE_EXTRA_CA_CERTS, a fresh process), create and destroy work through the tunnel", async () => {
    const script = `
        const { createHandlers } = require(${JSON.stringify(path.join(ROOT, "dist", "provider", "methods", "handlers.js"))});
        (async () => {
            const h = createHandlers({ log: () => undefined, env: {} });
            const c = { "imagine:apiToken": ${JSON.stringify(TOKEN)}, "imagine:baseUrl": "https://${API}", "imagine:expectedMinutes": "0.006",
                "imagine:requestsPerMinute": "60000", "imagine:minPollSeconds": "0.05", "imagine:maxPollSeconds": "0.2" };
            await h.configure({ config: { get: (k) => c[k] } });
            const { id, outs } = await h.create(${JSON.stringify(text)});
            await h.delete(id, outs);
            process.stdout.write(JSON.stringify({ id, status: outs.status }));
        })().catch((e) => { process.stdout.write(JSON.stringify({ error: e.message })); process.exit(1); });`;
    const env: NodeJS.ProcessEnv = { ...process.env, HTTPS_PROXY: proxyUrl, NODE_EXTRA_CA_CERTS: certFile };
    const out = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["-e", script], { env, stdio: ["ignore", "pipe", "ignore"] });
        let s = "";
        child.stdout.on("data", (c) => (s += c));
        child.on("close", () => resolve(s));
    });
    const r = JSON.parse(out) as { id?: string; status?: string; error?: string };
    expect(r.error).toBeUndefined();
    expect(r.status).toBe("finished");
    expect(proxied.every((p) => p === `CONNECT ${API}:443`)).toBe(true);
    expect(proxied.length).toBeGreaterThan(0);
    expect(countRequests(await h.emulator.stats(), /delete/, "200")).toBeGreaterThanOrEqual(1);
});

it("an http:// base URL to another machine is refused before any request unless imagine:allowInsecureHttp allows it", async () => {
    const p = await h.handlers({ "imagine:baseUrl": "http://api.vyro.ai" });
    await expect(p.check({}, text)).rejects.toThrow("imagine:allowInsecureHttp");
    await expect(p.create(text)).rejects.toThrow("Use https://");
    for (const url of ["http://localhost:9", "http://127.0.0.2:9", "http://[::1]:9"]) {
        const local = await h.handlers({ "imagine:baseUrl": url });
        await expect(local.check({}, text)).resolves.toMatchObject({ failures: [] });
    }
});
