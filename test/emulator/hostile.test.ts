/**
 * Hostile use of the emulator, beyond what status-delete, files, generate and fuzz already cover:
 * every way another key might reach a video (all status forms by GET and POST, both delete methods),
 * file URLs with another video's signature or a polluted query, hostile ids on every id route (encoded
 * dots, null bytes, 10,000 characters), and a 50 MiB upload streamed at the default limit, with the
 * data folder measured before and after.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import {
    auth,
    call,
    createVideo,
    expectError,
    FakeClock,
    filesOnDisk,
    OTHER_KEY,
    PNG,
    start,
    status,
    type Harness,
    finishedVideo,
} from "./helpers";

const clock = new FakeClock();
let h: Harness;
beforeEach(async () => {
    h = await start({ now: clock.now, processingSeconds: 10, urlTtlSeconds: 600 });
});
afterEach(async () => {
    await h.stop();
});

/** A request with the path sent exactly as given (fetch would normalise dots and encodings). */
function raw(
    method: string,
    rawPath: string,
    headers: Record<string, string> = auth(),
): Promise<{ status: number; body: string }> {
    const url = new URL(h.emu.url);
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: url.hostname, port: url.port, method, path: rawPath, headers }, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        // A connection dropped without an answer resolves as status 0 (only node's own 431 path allows it).
        req.on("error", (e: NodeJS.ErrnoException) =>
            e.code === "ECONNRESET" ? resolve({ status: 0, body: "" }) : reject(e),
        );
        req.end();
    });
}

async function healthy(): Promise<void> {
    const r = await call(`${h.emu.url}/__emulator/health`);
    expect({ status: r.status, body: r.json }).toEqual({ status: 200, body: { status: "ok" } });
}

/** Bytes of every file under a folder (the emulator's database, its WAL, the video files). */
function folderBytes(dir: string): number {
    let total = 0;
    for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) {
        const stat = fs.statSync(path.join(dir, entry), { throwIfNoEntry: false });
        if (stat?.isFile()) total += stat.size;
    }
    return total;
}

describe("another key", () => {
    test("can neither read (3 status forms x GET/POST) nor delete (DELETE/POST) a video, and learns nothing: the answers equal an unknown id's", async () => {
        const mine = await finishedVideo(h.emu, clock, 10);
        const forms = (id: string) => [`/v2/video/${id}/status`, `/v2/video/status/${id}`, `/v2/assets/${id}/status`];
        const unknown = "0b7f3c2e-1d4a-4b8e-9c1f-2a3b4c5d6e7f";
        const attempts: [string, (id: string) => string][] = [
            ...forms(mine.id).flatMap((_, i) =>
                (["GET", "POST"] as const).map(
                    (m) => [m, (id: string) => forms(id)[i]] as [string, (id: string) => string],
                ),
            ),
            ["DELETE", (id) => `/v2/video/delete/${id}`],
            ["POST", (id) => `/v2/video/delete/${id}`],
        ];
        expect(attempts).toHaveLength(8);
        for (const [method, pathOf] of attempts) {
            const theirs = await call(h.emu.url + pathOf(mine.id), { method, headers: auth(OTHER_KEY) });
            const none = await call(h.emu.url + pathOf(unknown), { method, headers: auth(OTHER_KEY) });
            expectError(theirs, 404, 1104);
            expect({ method, path: pathOf("ID"), body: theirs.json }).toEqual({
                method,
                path: pathOf("ID"),
                body: none.json,
            });
        }
        // The owner still has it, finished, with both files on disk and served.
        const video = (await status(h.emu, mine.id)).json.video;
        expect(video.status).toBe("finished");
        expect(filesOnDisk(h.dataDir).sort()).toEqual([
            path.join(mine.id, "thumbnail.png"),
            path.join(mine.id, "video.mp4"),
        ]);
        expect((await call(video.url.generation)).status).toBe(200);
        expect((await call(video.url.thumbnail)).status).toBe(200);
        expect((await h.emu.stats()).videosStored).toBe(1);
    });
});

describe("signed file URLs", () => {
    test("another video's valid signature, a signature without expires, and a polluted query are refused with 403", async () => {
        const a = await finishedVideo(h.emu, clock, 10);
        const b = await finishedVideo(h.emu, clock, 10);
        const bUrl = new URL(b.generation);
        const aUrl = new URL(a.generation);
        const refused = [
            // b's expires and signature on a's file
            `${h.emu.url}/files/${a.id}/video.mp4?expires=${bUrl.searchParams.get("expires")}&signature=${bUrl.searchParams.get("signature")}`,
            `${h.emu.url}/files/${a.id}/video.mp4?signature=${aUrl.searchParams.get("signature")}`,
            `${h.emu.url}/files/${a.id}/video.mp4?expires=${aUrl.searchParams.get("expires")}&expires=${aUrl.searchParams.get("expires")}&signature=${aUrl.searchParams.get("signature")}`,
            `${h.emu.url}/files/${a.id}/video.mp4?expires=${aUrl.searchParams.get("expires")}&signature=${aUrl.searchParams.get("signature")}&signature=${aUrl.searchParams.get("signature")}`,
            `${h.emu.url}/files/${a.id}/video.mp4?expires=${aUrl.searchParams.get("expires")}&signature=${aUrl.searchParams.get("signature")!.toUpperCase()}`,
            `${h.emu.url}/files/${a.id}/video.mp4?expires=${aUrl.searchParams.get("expires")}.0&signature=${aUrl.searchParams.get("signature")}`,
        ];
        for (const url of refused) expectError(await call(url), 403, 1105);
        expect((await call(a.generation)).status).toBe(200);
        expect((await call(b.generation)).status).toBe(200);
    });

    test("no signature, a wrong one and an expired one are refused (403 body) for the thumbnail too", async () => {
        const a = await finishedVideo(h.emu, clock, 10);
        const url = new URL(a.thumbnail);
        expectError(await call(`${h.emu.url}/files/${a.id}/thumbnail.png`), 403, 1105);
        url.searchParams.set("signature", "f".repeat(64));
        expectError(await call(url.toString()), 403, 1105);
        expect((await call(a.thumbnail)).status).toBe(200);
        clock.advance(601);
        expectError(await call(a.thumbnail), 403, 1105);
    });
});

describe("hostile ids on every id route", () => {
    const ids: [string, string][] = [
        ["../", "../"],
        ["..%2F", "..%2F"],
        ["%2e%2e", "%2e%2e"],
        ["%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"],
        ["encoded slash", "a%2Fb"],
        ["encoded backslash", "..%5C..%5Cwindows"],
        ["null byte", "abc%00def"],
        ["null byte alone", "%00"],
        ["double-encoded dot-dot", "%252e%252e%252f"],
        ["10,000 characters", "a".repeat(10_000)],
        ["10,000 encoded slashes (a 30,000-character path)", "%2F".repeat(10_000)],
    ];
    const routes: [string, (id: string) => string][] = [
        ["GET", (id) => `/v2/video/${id}/status`],
        ["POST", (id) => `/v2/video/${id}/status`],
        ["GET", (id) => `/v2/video/status/${id}`],
        ["GET", (id) => `/v2/assets/${id}/status`],
        ["POST", (id) => `/v2/assets/${id}/status`],
        ["DELETE", (id) => `/v2/video/delete/${id}`],
        ["POST", (id) => `/v2/video/delete/${id}`],
        ["GET", (id) => `/files/${id}/video.mp4?expires=99999999999&signature=${"0".repeat(64)}`],
    ];

    test.each(ids)(
        "%s: 4xx with an error body on all 8 routes, never 5xx; the emulator stays healthy and nothing is deleted",
        async (_name, id) => {
            const mine = await finishedVideo(h.emu, clock, 10);
            for (const [method, pathOf] of routes) {
                const answer = await raw(method, pathOf(id));
                const where = `${method} ${pathOf(id).slice(0, 60)}`;
                // Past node's 16 KiB limit on the request head, node itself answers 431 and closes, before any
                // route runs; the close can reset the socket before the client reads the 431 (status 0 here).
                const allowed = pathOf(id).length > 16 * 1024 ? [431, 0] : [400, 404];
                if (!allowed.includes(answer.status))
                    throw new Error(
                        `${where}: expected ${allowed.join(" or ")}, got ${answer.status} ${answer.body.slice(0, 200)}`,
                    );
                if (answer.status === 0) continue;
                const body = JSON.parse(answer.body);
                if (answer.status === 400) {
                    // An id the route saw: the vendor body, invalid request.
                    expect({ where, body }).toEqual({
                        where,
                        body: { status: "error", code: 1100, error: expect.any(String), message: expect.any(String) },
                    });
                } else {
                    // No route matched (the id broke the path apart): the plain route 404, or the vendor's not-found.
                    expect({ where, body }).toEqual({
                        where,
                        body: expect.objectContaining({ error: expect.any(String) }),
                    });
                }
            }
            await healthy();
            expect((await status(h.emu, mine.id)).json.video.status).toBe("finished");
            expect(filesOnDisk(h.dataDir)).toHaveLength(2);
        },
    );

    test("a literal null byte or a 100,000-character path in the request line does not crash it", async () => {
        const url = new URL(h.emu.url);
        const rawLine = (line: string) =>
            new Promise<string>((resolve) => {
                const socket = net.connect(Number(url.port), url.hostname, () =>
                    socket.end(`${line}\r\nHost: x\r\nAuthorization: ${auth().authorization}\r\n\r\n`),
                );
                let answer = "";
                socket.on("data", (c: Buffer) => (answer += c.toString()));
                socket.on("close", () => resolve(answer));
                socket.on("error", () => resolve(answer));
            });
        for (const line of [
            "GET /v2/video/abc\u0000def/status HTTP/1.1",
            `GET /v2/video/${"b".repeat(100_000)}/status HTTP/1.1`,
        ]) {
            const answer = await rawLine(line);
            expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
        }
        await healthy();
    });
});

describe("a 50 MiB upload", () => {
    const MiB = 1024 * 1024;

    /**
     * Streams `total` bytes of multipart (chunked, no declared length) and resolves with the answer as
     * soon as it comes, and how much had been written by then.
     */
    function streamUpload(
        routePath: string,
        head: Buffer,
        total: number,
        contentType = "multipart/form-data; boundary=B",
    ): Promise<{ status: number; body: string; sent: number }> {
        const url = new URL(h.emu.url);
        return new Promise((resolve, reject) => {
            let sent = 0;
            let answered = false;
            const req = http.request(
                {
                    host: url.hostname,
                    port: url.port,
                    method: "POST",
                    path: routePath,
                    headers: { ...auth(), "content-type": contentType, "transfer-encoding": "chunked" },
                },
                (res) => {
                    answered = true;
                    let body = "";
                    res.on("data", (c) => (body += c));
                    res.on("end", () => {
                        req.destroy();
                        resolve({ status: res.statusCode ?? 0, body, sent });
                    });
                },
            );
            // Once the server has answered and closed, further writes fail: that is the point.
            req.on("error", (e) => {
                if (!answered) reject(e);
            });
            const chunk = Buffer.alloc(MiB, 0x41);
            const pump = () => {
                while (!answered && sent < total) {
                    const data = sent === 0 ? head : chunk;
                    sent += data.length;
                    if (!req.write(data)) return void req.once("drain", pump);
                }
                if (!answered) req.end("\r\n--B--\r\n");
            };
            pump();
        });
    }

    const filePart = (name: string) =>
        Buffer.concat([
            Buffer.from(
                `--B\r\nContent-Disposition: form-data; name="${name}"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
            ),
            PNG,
        ]);

    test.each([
        ["the image part", "/v2/video/image-to-video", filePart("file")],
        [
            "an extra file part the emulator only drains",
            "/v2/video/text-to-video",
            Buffer.concat([
                Buffer.from('--B\r\nContent-Disposition: form-data; name="prompt"\r\n\r\np\r\n'),
                filePart("extra"),
            ]),
        ],
        [
            "a text field",
            "/v2/video/text-to-video",
            Buffer.from('--B\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'),
        ],
    ])(
        "in %s is cut off with 413 near the 10 MiB limit, and the data folder does not grow",
        async (_name, routePath, head) => {
            const before = folderBytes(h.dataDir);
            const answer = await streamUpload(routePath, head, 50 * MiB);
            expect(answer.status).toBe(413);
            expect(JSON.parse(answer.body)).toMatchObject({ status: "error", code: 1100 });
            // The limit, the 1 MiB form overhead, and what the socket buffers held when the answer came.
            expect(answer.sent).toBeLessThan(20 * MiB);
            await healthy();
            expect(folderBytes(h.dataDir) - before).toBeLessThan(256 * 1024);
            expect((await h.emu.stats()).videosStored).toBe(0);
        },
    );

    test("gets its 413 every time, not a reset connection (10 uploads in a row)", async () => {
        // The emulator stops reading and drops the socket only after a grace: a reset right after the
        // answer could reach the client first, and the client would see EPIPE instead of the 413.
        for (let i = 0; i < 10; i++) {
            const answer = await streamUpload("/v2/video/image-to-video", filePart("file"), 50 * MiB);
            expect({ i, status: answer.status }).toEqual({ i, status: 413 });
        }
        expect(filesOnDisk(h.dataDir)).toEqual([]);
    });

    test("to a bodiless route (status by POST) is cut off at the 1 MiB body limit", async () => {
        const id = await createVideo(h.emu);
        const before = folderBytes(h.dataDir);
        const answer = await streamUpload(
            `/v2/video/${id}/status`,
            Buffer.alloc(MiB, 0x42),
            50 * MiB,
            "application/octet-stream",
        );
        expect(answer.status).toBe(413);
        expect(answer.sent).toBeLessThan(50 * MiB);
        await healthy();
        expect(folderBytes(h.dataDir) - before).toBeLessThan(256 * 1024);
    });
});
