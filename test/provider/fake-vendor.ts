/**
 * A small purpose-built vendor for tests whose behaviour the emulator should not learn (odd payloads,
 * odd 404s, pages that echo headers): a node http server on a free loopback port that answers each
 * request with what the test's handler returns, and records every request it saw.
 */
import * as http from "http";
import * as net from "net";

export interface SeenRequest {
    method: string;
    path: string;
    headers: http.IncomingHttpHeaders;
    bodyBytes: number;
    /** The body as latin1 text (a multipart form's fields can be read from it). */
    body: string;
}

export interface Answer {
    status: number;
    /** An object is sent as JSON; a string as it is. */
    body?: unknown;
    headers?: Record<string, string>;
}

export type Handler = (req: SeenRequest) => Answer | Promise<Answer>;

export interface FakeVendor {
    url: string;
    requests: SeenRequest[];
    /** "METHOD /path" of every request, in order. */
    seen(): string[];
    stop(): Promise<void>;
}

export async function startFakeVendor(handler: Handler): Promise<FakeVendor> {
    const requests: SeenRequest[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const seen: SeenRequest = {
                method: req.method ?? "",
                path: req.url ?? "",
                headers: req.headers,
                bodyBytes: Buffer.concat(chunks).length,
                body: Buffer.concat(chunks).toString("latin1"),
            };
            requests.push(seen);
            void Promise.resolve(handler(seen)).then((a) => {
                const text = typeof a.body === "string" ? a.body : a.body === undefined ? "" : JSON.stringify(a.body);
                const type = typeof a.body === "string" ? "text/html" : "application/json";
                res.writeHead(a.status, { "content-type": type, ...a.headers });
                res.end(text);
            });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return {
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        requests,
        seen: () => requests.map((r) => `${r.method} ${r.path}`),
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** The vendor's documented error body. */
export const vendorError = (code: number, error: string, message: string) => ({
    status: "error",
    code,
    error,
    message,
});

/** The uuid status shape of a finished video. */
export const finished = (id: string, base = "https://cdn.example.com") => ({
    status: "success",
    video: {
        uuid: id,
        status: "finished",
        created_at: "2025-03-04T07:09:25Z",
        url: { generation: `${base}/${id}.mp4`, thumbnail: `${base}/${id}.jpg` },
    },
});

/** The value of a multipart form field in a request body, or undefined when the form has no such field. */
export function formField(body: string, name: string): string | undefined {
    const match = new RegExp(`name="${name}"\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\n([^\\r]*)\\r\\n`).exec(body);
    return match?.[1];
}
