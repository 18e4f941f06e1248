/** Status at the three URLs (GET and POST), delete (DELETE and POST), ids, route-404 vs video-404, ownership. */
import http from "node:http";
import {
    auth,
    call,
    createVideo,
    expectError,
    FakeClock,
    OTHER_KEY,
    remove,
    start,
    status,
    type Harness,
} from "./helpers";

let h: Harness;
const clock = new FakeClock();
beforeEach(async () => {
    h = await start({ now: clock.now, processingSeconds: 60 });
});
afterEach(async () => {
    await h.stop();
});

const forms = (id: string) => [`/v2/video/${id}/status`, `/v2/video/status/${id}`, `/v2/assets/${id}/status`];

describe("status", () => {
    test("answers at all three URLs by GET and POST", async () => {
        const id = await createVideo(h.emu);
        for (const url of forms(id)) {
            for (const method of ["GET", "POST"]) {
                const answer = await status(h.emu, id, undefined, url, method);
                expect({ url, method, status: answer.status, uuid: answer.json?.video?.uuid }).toEqual({
                    url,
                    method,
                    status: 200,
                    uuid: id,
                });
            }
        }
        const stats = await h.emu.stats();
        expect(stats.requests["GET /v2/video/:id/status"]).toEqual({ "200": 1 });
        expect(stats.requests["POST /v2/assets/:id/status"]).toEqual({ "200": 1 });
        expect(stats.requests["GET /v2/video/status/:id"]).toEqual({ "200": 1 });
    });

    test("unknown id -> 404 with the vendor body (1104); unknown route -> plain 404 without it", async () => {
        const missing = await status(h.emu, "no-such-video");
        expectError(missing, 404, 1104);
        const route = await call(`${h.emu.url}/v2/video/no-such-video/stat`, { headers: auth() });
        expect(route.status).toBe(404);
        expect(route.json).toEqual({
            message: "Route GET:/v2/video/no-such-video/stat not found",
            error: "Not Found",
            statusCode: 404,
        });
        expect(route.json.status).toBeUndefined();
    });

    test("status needs a valid token", async () => {
        const id = await createVideo(h.emu);
        expectError(await call(`${h.emu.url}/v2/video/${id}/status`), 400, 1000);
        expectError(await status(h.emu, id, "vk-wrong"), 401, 1001);
    });

    test.each([
        ["dot-dot", "/v2/video/../status"],
        ["encoded slash", "/v2/video/a%2Fb/status"],
        ["encoded dot-dot slash", "/v2/video/status/..%2F..%2Fetc%2Fpasswd"],
        ["too long", `/v2/video/${"a".repeat(129)}/status`],
        ["bad characters", "/v2/assets/abc$def/status"],
        ["space", "/v2/video/a%20b/status"],
    ])("invalid id (%s) -> 400 error body", async (_name, path) => {
        // fetch would normalise "..", so send the raw path.
        const url = new URL(h.emu.url);
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            http.get({ host: url.hostname, port: url.port, path, headers: auth() }, (res) => {
                let body = "";
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            }).on("error", reject);
        });
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.body)).toMatchObject({ status: "error", code: 1100 });
    });

    test("an id of exactly 128 allowed characters is valid (and unknown)", async () => {
        expectError(await status(h.emu, "a_".repeat(64)), 404, 1104);
    });

    test("disableStatusRoutes makes a form answer the plain route 404", async () => {
        const id = await createVideo(h.emu);
        h.emu.configure({ disableStatusRoutes: ["assets"] });
        const assets = await status(h.emu, id, undefined, `/v2/assets/${id}/status`);
        expect(assets.status).toBe(404);
        expect(assets.json).toMatchObject({ error: "Not Found", statusCode: 404 });
        expect(assets.json.status).toBeUndefined();
        expect((await status(h.emu, id)).status).toBe(200);
        expect((await status(h.emu, id, undefined, `/v2/video/status/${id}`)).status).toBe(200);
        h.emu.configure({ disableStatusRoutes: ["current", "deprecated"] });
        expect((await status(h.emu, id)).status).toBe(404);
        expect((await status(h.emu, id, undefined, `/v2/video/status/${id}`)).status).toBe(404);
        expect((await status(h.emu, id, undefined, `/v2/assets/${id}/status`)).status).toBe(200);
    });
});

describe("delete", () => {
    test.each(["DELETE", "POST"])("by %s: 200 body, then the video is gone (404 body)", async (method) => {
        clock.advance(61);
        const id = await createVideo(h.emu);
        clock.advance(61);
        expect((await status(h.emu, id)).json.video.status).toBe("finished");
        const answer = await remove(h.emu, id, undefined, method);
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({ message: "video deleted", status: "success" });
        expectError(await status(h.emu, id), 404, 1104);
        expectError(await remove(h.emu, id, undefined, method), 404, 1104);
    });

    test("delete of an unknown id -> 404 body; GET on the delete URL is a missing route", async () => {
        expectError(await remove(h.emu, "never-existed"), 404, 1104);
        const get = await call(`${h.emu.url}/v2/video/delete/never-existed`, { headers: auth() });
        expect(get.status).toBe(404);
        expect(get.json.status).toBeUndefined();
    });

    test("deleteMethods: a disallowed method answers 405 and deletes nothing", async () => {
        const id = await createVideo(h.emu);
        h.emu.configure({ deleteMethods: ["DELETE"] });
        const post = await remove(h.emu, id, undefined, "POST");
        expectError(post, 405, 1107);
        expect(post.headers.get("allow")).toBe("DELETE");
        expect((await status(h.emu, id)).status).toBe(200);
        h.emu.configure({ deleteMethods: ["POST"] });
        expectError(await remove(h.emu, id, undefined, "DELETE"), 405, 1107);
        expect((await remove(h.emu, id, undefined, "POST")).status).toBe(200);
    });

    test("deleteWhileProcessing accept (default) cancels a processing video at once", async () => {
        const id = await createVideo(h.emu);
        expect((await status(h.emu, id)).json.video.status).toBe("processing");
        expect((await remove(h.emu, id)).status).toBe(200);
        expectError(await status(h.emu, id), 404, 1104);
        expect((await h.emu.stats()).videosStored).toBe(0);
    });

    test("deleteWhileProcessing reject -> 409 until the video ends, then 200", async () => {
        h.emu.configure({ deleteWhileProcessing: "reject" });
        const id = await createVideo(h.emu);
        const refused = await remove(h.emu, id);
        expectError(refused, 409, 1106);
        expect(refused.json.message).toMatch(/still processing/);
        clock.advance(30);
        expectError(await remove(h.emu, id, undefined, "POST"), 409, 1106);
        clock.advance(31);
        expect((await remove(h.emu, id)).status).toBe(200);
    });
});

describe("ownership", () => {
    test("another valid key gets the 404 body for status and delete, and nothing is touched", async () => {
        const id = await createVideo(h.emu);
        clock.advance(61);
        expectError(await status(h.emu, id, OTHER_KEY), 404, 1104);
        expectError(await status(h.emu, id, OTHER_KEY, `/v2/assets/${id}/status`), 404, 1104);
        expectError(await remove(h.emu, id, OTHER_KEY), 404, 1104);
        expectError(await remove(h.emu, id, OTHER_KEY, "POST"), 404, 1104);
        const mine = await status(h.emu, id);
        expect(mine.json.video.status).toBe("finished");
        expect((await h.emu.stats()).videosStored).toBe(1);
    });
});

describe("bodiless POSTs with a client-added Content-Type", () => {
    it("status and delete by POST ignore a form-urlencoded or JSON body, as the vendor does", async () => {
        const { startEmulator } = await import("imagine-api-emulator");
        const fs = await import("fs");
        const os = await import("os");
        const path = await import("path");
        const axios = (await import("axios")).default;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-bodiless-"));
        const emu = await startEmulator({ dataDir: dir, tokens: ["vk-one"], processingSeconds: 0 });
        try {
            const form = new FormData();
            form.append("prompt", "p");
            form.append("style", "fast-svd");
            const auth = { Authorization: "Bearer vk-one" };
            const { id } = (await axios.post(`${emu.url}/v2/video/text-to-video`, form, { headers: auth })).data;
            const status = await axios.post(`${emu.url}/v2/assets/${id}/status`, undefined, {
                headers: auth,
                validateStatus: () => true,
            });
            expect(status.config.headers["Content-Type"]).toBe("application/x-www-form-urlencoded");
            expect(status.status).toBe(200);
            const del = await axios.post(`${emu.url}/v2/video/delete/${id}`, "{}", {
                headers: { ...auth, "Content-Type": "application/json" },
                validateStatus: () => true,
            });
            expect(del.status).toBe(200);
            expect(del.data).toEqual({ message: "video deleted", status: "success" });
            const notMultipart = await axios.post(`${emu.url}/v2/video/text-to-video`, "prompt=p&style=fast-svd", {
                headers: auth,
                validateStatus: () => true,
            });
            expect(notMultipart.status).toBe(400);
            expect(notMultipart.data.status).toBe("error");
        } finally {
            await emu.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
