/** Creation routes: success of both variations, every validation error row, credits, uploads too large. */
import http from "node:http";
import {
    auth,
    call,
    expectError,
    filesOnDisk,
    form,
    JPEG,
    OTHER_KEY,
    PNG,
    start,
    status,
    textToVideo,
    type Harness,
} from "./helpers";

let h: Harness;
beforeEach(async () => {
    h = await start();
});
afterEach(async () => {
    await h.stop();
});

const imageToVideo = (fields: Record<string, string>, files: Record<string, Buffer>, headers = auth()) =>
    call(`${h.emu.url}/v2/video/image-to-video`, {
        method: "POST",
        headers,
        body: form({ prompt: "waves", style: "fast-svd", ...fields }, files),
    });

describe("text-to-video", () => {
    test("answers 200 with an opaque id and processing, and the video exists", async () => {
        const answer = await textToVideo(h.emu, { aspect_ratio: "16:9", seed: "42", duration: "5" });
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9-]+$/), status: "processing" });
        const s = await status(h.emu, answer.json.id);
        expect(s.status).toBe(200);
        expect(s.json.video.status).toBe("processing");
    });

    test.each([
        "fast-svd",
        "kling-1.0-pro",
        "kling-1.5-pro",
        "kling-1.0-standard",
        "kling-1.5",
        "hailuo-ai",
        "hailuo-live-ai",
        "luma-dream-machine-ray-2",
    ])("accepts style %s", async (style) => {
        expect((await textToVideo(h.emu, { style })).status).toBe(200);
    });

    test.each(["1:1", "16:9", "9:16"])("accepts aspect ratio %s", async (ratio) => {
        expect((await textToVideo(h.emu, { aspect_ratio: ratio })).status).toBe(200);
    });

    test("two creations give two different ids", async () => {
        const a = await textToVideo(h.emu);
        const b = await textToVideo(h.emu);
        expect(a.json.id).not.toBe(b.json.id);
    });
});

describe("image-to-video", () => {
    test.each([
        ["file", PNG],
        ["image", JPEG],
    ])("takes the image as file part %s", async (part, bytes) => {
        const answer = await imageToVideo({}, { [part]: bytes });
        expect(answer.status).toBe(200);
        expect(answer.json.status).toBe("processing");
        expect(filesOnDisk(h.dataDir)).toEqual([expect.stringMatching(/input\.(png|jpg)$/)]);
        expect((await h.emu.stats()).bytesStored).toBe((bytes as Buffer).length);
    });

    test("image missing -> 1100/400", async () => {
        expectError(await imageToVideo({}, {}), 400, 1100);
    });

    test("not an image (magic bytes) -> 1100/400, nothing stored", async () => {
        expectError(await imageToVideo({}, { file: Buffer.from("GIF89a not what we take") }), 400, 1100);
        expect(filesOnDisk(h.dataDir)).toEqual([]);
    });
});

describe("error rows", () => {
    const post = (headers: Record<string, string>, body: RequestInit["body"]) =>
        call(`${h.emu.url}/v2/video/text-to-video`, { method: "POST", headers, body });

    test("missing token -> 1000/400", async () => {
        expectError(await post({}, form({ prompt: "x", style: "fast-svd" })), 400, 1000);
    });

    test("unknown token -> 1001/401, and the token is not echoed", async () => {
        const answer = await post(auth("vk-not-a-known-key-123"), form({ prompt: "x", style: "fast-svd" }));
        expectError(answer, 401, 1001);
        expect(answer.text).not.toContain("vk-not-a-known-key-123");
    });

    test("missing style -> 1103/400", async () => {
        expectError(await textToVideo(h.emu, { style: "" }), 400, 1103);
        expectError(await post(auth(), form({ prompt: "x" })), 400, 1103);
    });

    test("unknown style -> 1100/400", async () => {
        expectError(await textToVideo(h.emu, { style: "kling-9000" }), 400, 1100);
    });

    test("missing prompt -> 1100/400", async () => {
        expectError(await post(auth(), form({ style: "fast-svd" })), 400, 1100);
    });

    test("bad aspect ratio -> 1100/400", async () => {
        expectError(await textToVideo(h.emu, { aspect_ratio: "4:3" }), 400, 1100);
    });

    test("prompt of 2,500 characters is fine, 2,501 -> 1100/400", async () => {
        expect((await textToVideo(h.emu, { prompt: "p".repeat(2500) })).status).toBe(200);
        expectError(await textToVideo(h.emu, { prompt: "p".repeat(2501) }), 400, 1100);
    });

    test("a body that is not multipart -> 400 error body", async () => {
        expectError(
            await post(
                { ...auth(), "content-type": "application/json" },
                JSON.stringify({ prompt: "x", style: "fast-svd" }),
            ),
            400,
            1100,
        );
        expectError(
            await post({ ...auth(), "content-type": "application/x-www-form-urlencoded" }, "prompt=x&style=fast-svd"),
            400,
            1100,
        );
        expectError(await post({ ...auth(), "content-type": "text/plain" }, "hello"), 400, 1100);
        expectError(await post(auth(), undefined), 400, 1100);
    });

    test("malformed multipart -> 400 error body", async () => {
        const headers = { ...auth(), "content-type": "multipart/form-data; boundary=XYZ" };
        expectError(
            await post(headers, '--XYZ\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nunterminated'),
            400,
            1100,
        );
        expectError(await post(headers, "this is not multipart at all"), 400, 1100);
        expectError(await post({ ...auth(), "content-type": "multipart/form-data" }, "--\r\n"), 400, 1100);
    });

    test("insufficient credits -> 1101/402 after N, per key, delete does not refund", async () => {
        await h.emu.stop();
        h = await start({ credits: 2 });
        const first = await textToVideo(h.emu);
        expect(first.status).toBe(200);
        expect((await textToVideo(h.emu)).status).toBe(200);
        expectError(await textToVideo(h.emu), 402, 1101);
        expect(
            (await call(`${h.emu.url}/v2/video/delete/${first.json.id}`, { method: "DELETE", headers: auth() })).status,
        ).toBe(200);
        expectError(await textToVideo(h.emu), 402, 1101);
        expect((await textToVideo(h.emu, {}, OTHER_KEY)).status).toBe(200);
        expect((await h.emu.stats()).videosStored).toBe(2);
    });
});

describe("uploads too large -> 413, nothing written", () => {
    beforeEach(async () => {
        await h.emu.stop();
        h = await start({ maxUploadBytes: 1000 });
    });

    test("streamed over the limit (declared length below the pre-check)", async () => {
        const big = Buffer.concat([PNG, Buffer.alloc(20_000, 1)]);
        const answer = await imageToVideo({}, { file: big });
        expectError(answer, 413, 1100);
        expect(filesOnDisk(h.dataDir)).toEqual([]);
        expect((await h.emu.stats()).videosStored).toBe(0);
    });

    /** Sends an upload's headers and the first chunks but never ends it: the answer must come anyway. */
    function unfinishedUpload(
        headers: Record<string, string>,
        chunks: (string | Buffer)[],
    ): Promise<{ status: number; body: string }> {
        const url = new URL(h.emu.url);
        return new Promise((resolve, reject) => {
            const req = http.request(
                {
                    host: url.hostname,
                    port: url.port,
                    method: "POST",
                    path: "/v2/video/image-to-video",
                    headers: { ...auth(), "content-type": "multipart/form-data; boundary=B", ...headers },
                },
                (res) => {
                    let body = "";
                    res.on("data", (c) => (body += c));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                },
            );
            req.on("error", reject);
            for (const c of chunks) req.write(c);
        });
    }

    test("a declared length far over the limit is refused before the body is read", async () => {
        // Send only the headers of a 50 MB upload: the answer must come without the body being sent.
        const answer = await unfinishedUpload({ "content-length": String(50 * 1024 * 1024) }, ["--B\r\n"]);
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toMatchObject({ status: "error", code: 1100 });
        expect(filesOnDisk(h.dataDir)).toEqual([]);
    });

    test("a chunked upload (no declared length) gets 413 as soon as it passes the limit, before it ends", async () => {
        const answer = await unfinishedUpload({ "transfer-encoding": "chunked" }, [
            '--B\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n',
            PNG,
            Buffer.alloc(5000, 1), // over the 1,000-byte limit; the request is never ended
        ]);
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toMatchObject({ status: "error", code: 1100 });
        expect(filesOnDisk(h.dataDir)).toEqual([]);
    });

    test("an image within the limit is accepted", async () => {
        expect((await imageToVideo({}, { file: PNG })).status).toBe(200);
    });

    test("the limit is switchable at run time", async () => {
        h.emu.configure({ maxUploadBytes: 100 });
        expectError(await imageToVideo({}, { file: Buffer.concat([PNG, Buffer.alloc(200)]) }), 413, 1100);
        h.emu.configure({ maxUploadBytes: 100_000 });
        expect((await imageToVideo({}, { file: Buffer.concat([PNG, Buffer.alloc(200)]) })).status).toBe(200);
    });
});
