/**
 * Judgements the provider must never get wrong, over real HTTP: whether a video is gone (key rotation,
 * 404s on one delete method, 404 bodies that are not the vendor's), what a status payload means,
 * which id an answer gives, and what text of an answer may reach a message. The emulator where it
 * behaves like this already; a purpose-built vendor (fake-vendor.ts) for what it should not learn.
 */
import { createHash } from "crypto";
import { VideoHandlers } from "../../provider/methods/handlers";
import {
    countRequests,
    createFailure,
    handlersFor,
    Harness,
    OTHER_TOKEN,
    PROVIDER,
    startHarness,
    TOKEN,
} from "./harness";
import { FakeVendor, finished, formField, startFakeVendor, vendorError } from "./fake-vendor";

const text = { prompt: "A lighthouse in a storm", style: "kling-1.0-pro", __provider: PROVIDER };
const fingerprintOf = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 12);

describe("what reaches the vendor", () => {
    it("sends aspectRatio and every extra param as form fields of the generation request", async () => {
        const v = await startFakeVendor((req) =>
            req.method === "POST"
                ? { status: 200, body: { id: "4242", status: "processing" } }
                : { status: 200, body: finished("4242") },
        );
        try {
            const p = await handlersFor(v.url);
            const { outs } = await p.create({
                ...text,
                aspectRatio: "9:16",
                extraParams: { seed: "42", negative_prompt: "no rain" },
                waitForCompletion: false,
            });
            expect(outs.videoId).toBe("4242");
            const [generation] = v.requests.filter((r) => r.path === "/v2/video/text-to-video");
            expect(formField(generation.body, "prompt")).toBe(text.prompt);
            expect(formField(generation.body, "style")).toBe(text.style);
            expect(formField(generation.body, "aspect_ratio")).toBe("9:16");
            expect(formField(generation.body, "seed")).toBe("42");
            expect(formField(generation.body, "negative_prompt")).toBe("no rain");
            expect(formField(generation.body, "image")).toBeUndefined();
        } finally {
            await v.stop();
        }
    });
});

describe("hung requests: the request timeout (imagine:requestTimeoutSeconds)", () => {
    const never = () => new Promise<never>(() => undefined);

    it("a generation request that times out is never sent again (it may have started a paid video)", async () => {
        const v = await startFakeVendor((req) => (req.method === "POST" ? never() : { status: 404, body: {} }));
        try {
            const p = await handlersFor(v.url, [], { "imagine:requestTimeoutSeconds": "0.3" });
            const failure = await p.create({ ...text, waitForCompletion: false }).then(
                () => undefined,
                (e: Error) => e,
            );
            expect(failure?.name).toBe("ImagineGenerationUncertainError");
            expect(failure?.message).toContain("adopt");
            expect(v.seen().filter((r) => r.startsWith("POST"))).toEqual(["POST /v2/video/text-to-video"]);
        } finally {
            await v.stop();
        }
    });

    it("a status read that times out is asked again, and the wait goes on to the finished video", async () => {
        let statusReads = 0;
        const v = await startFakeVendor((req) => {
            if (req.method === "POST") return { status: 200, body: { id: "777", status: "processing" } };
            return ++statusReads === 1 ? never() : { status: 200, body: finished("777") };
        });
        try {
            const p = await handlersFor(v.url, [], { "imagine:requestTimeoutSeconds": "0.3" });
            const { outs } = await p.create(text);
            expect(outs.status).toBe("finished");
            expect(statusReads).toBeGreaterThanOrEqual(2);
            expect(v.seen().filter((r) => r.startsWith("POST"))).toHaveLength(1);
        } finally {
            await v.stop();
        }
    });
});

describe("key rotation: a 404 seen with another key is no proof (emulator)", () => {
    let h: Harness;
    beforeEach(async () => (h = await startHarness()));
    afterEach(async () => h.stop());

    it("records the key's fingerprint (never the key) at create and adopt", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        expect(outs.keyFingerprint).toBe(fingerprintOf(TOKEN));
        expect(JSON.stringify(outs)).not.toContain(TOKEN.slice(3, 15));
        const adopted = await p.create({ adoptVideoId: id, __provider: PROVIDER });
        expect(adopted.outs.keyFingerprint).toBe(fingerprintOf(TOKEN));
    });

    it("refresh with another valid key keeps the video and says so; destroy fails naming the key to use and keeps it", async () => {
        const owner = await h.handlers();
        const { id, outs } = await owner.create(text);
        const other = await h.handlers({ "imagine:apiToken": OTHER_TOKEN });

        const read = await other.read(id, outs);
        expect(read.id).toBe(id);
        expect(read.props).toMatchObject({ videoId: id, status: "finished", keyFingerprint: fingerprintOf(TOKEN) });
        expect(h.logs.join("\n")).toContain(`fingerprint is ${fingerprintOf(TOKEN)}`);

        const err = await other.delete(id, outs).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.name).toBe("ImagineOtherKeyError");
        expect(err?.message).toContain(`the key with fingerprint ${fingerprintOf(TOKEN)}`);
        expect(err?.message).toContain("imagine:apiToken");
        expect(err?.message).not.toContain(OTHER_TOKEN);
        expect(err?.message).not.toContain(TOKEN);
        expect((await h.emulator.stats()).videosStored).toBe(1);

        await owner.delete(id, outs);
        expect((await h.emulator.stats()).videosStored).toBe(0);
    });

    it("videos recorded before fingerprints keep working: refresh, delete, and a gone video counts as gone", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        const old = { ...outs };
        delete old.keyFingerprint;
        expect((await p.read(id, old)).props).not.toHaveProperty("keyFingerprint");
        await p.delete(id, old);
        expect((await h.emulator.stats()).videosStored).toBe(0);
        await p.delete(id, old);
        expect((await p.read(id, old)).id).toBe("");
    });

    it("a second delete of a gone video is confirmed by a status read before it counts as gone", async () => {
        const p = await h.handlers();
        const { id, outs } = await p.create(text);
        await p.delete(id, outs);
        const before = await h.emulator.stats();
        await p.delete(id, outs);
        const after = await h.emulator.stats();
        expect(countRequests(after, /delete/, "404") - countRequests(before, /delete/, "404")).toBe(1);
        expect(countRequests(after, /status/, "404") - countRequests(before, /status/, "404")).toBe(1);
        expect(h.logs).toContain(`video ${id}: already gone on the vendor's side`);
    });
});

describe("404s (purpose-built vendor)", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    it("a vendor that answers the unused delete method with its JSON 404 gets the other method, not 'already gone'", async () => {
        let deleted = false;
        v = await startFakeVendor((r) => {
            if (/\/status/.test(r.path))
                return deleted
                    ? { status: 404, body: vendorError(1104, "Not Found", "video not found") }
                    : { status: 200, body: finished("vid1") };
            if (r.method === "POST" && r.path === "/v2/video/delete/vid1") {
                deleted = true;
                return { status: 200, body: { message: "video deleted", status: "success" } };
            }
            return { status: 404, body: vendorError(1104, "Not Found", "no such route or video") };
        });
        const logs: string[] = [];
        const p = await handlersFor(v.url, logs);
        await p.delete("vid1", { videoId: "vid1", keyFingerprint: fingerprintOf(TOKEN) });
        expect(deleted).toBe(true);
        expect(logs).toContain("video vid1: deleted (POST), confirmed: the API no longer knows it (status 404)");
        // The verification after the acknowledged delete is the last status read (there is no stored file link).
        expect(v.seen()).toEqual([
            "DELETE /v2/video/delete/vid1",
            "GET /v2/video/vid1/status",
            "POST /v2/video/delete/vid1",
            "GET /v2/video/vid1/status",
        ]);
    });

    it("a framework's JSON 404 on a status form it does not serve does not hide the video served by another form", async () => {
        v = await startFakeVendor((r) => {
            if (r.path === "/v2/video/status/vid2") return { status: 200, body: finished("vid2") };
            return { status: 404, body: { detail: "Not Found" } };
        });
        const p = await handlersFor(v.url);
        const read = await p.read("vid2", { videoId: "vid2", status: "processing" });
        expect(read.id).toBe("vid2");
        expect(read.props.status).toBe("finished");
    });

    it("a 404 on delete while the status shows the video is not counted as gone", async () => {
        v = await startFakeVendor((r) =>
            /status/.test(r.path)
                ? { status: 200, body: finished("vid3") }
                : { status: 404, body: vendorError(1104, "Not Found", "x") },
        );
        const p = await handlersFor(v.url);
        const err = await p.delete("vid3", { videoId: "vid3" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).toContain("its status shows the video exists");
    });

    it('"Error processing request" (400) is a refusal: delete fails at once instead of waiting for a busy video', async () => {
        v = await startFakeVendor(() => ({
            status: 400,
            body: vendorError(1100, "Bad Request", "Error processing request"),
        }));
        const p = await handlersFor(v.url, [], { "imagine:deleteTimeoutMinutes": "1" });
        const started = Date.now();
        const err = await p.delete("vid4", { videoId: "vid4" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.name).toBe("ImagineInvalidRequestError");
        expect(Date.now() - started).toBeLessThan(5000);
        expect(v.seen().filter((s) => /status/.test(s))).toEqual([]);
    });
});

describe("status payloads by rule (purpose-built vendor)", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    /** A vendor whose create answers {id: "s1"} and whose status answers come from `statuses` in turn (the last repeats). */
    async function vendorWith(statuses: unknown[]): Promise<VideoHandlers> {
        let n = 0;
        v = await startFakeVendor((r) => {
            if (/to-video/.test(r.path)) return { status: 200, body: { id: "s1", status: "processing" } };
            if (/status/.test(r.path)) return { status: 200, body: statuses[Math.min(n++, statuses.length - 1)] };
            return { status: 200, body: { status: "success", message: "video deleted" } };
        });
        return handlersFor(v.url);
    }

    it("a queue notice in `message` of the shape without a status word is not a failure", async () => {
        const p = await vendorWith([
            {
                status: "success",
                video: {
                    id: 7,
                    code: 1,
                    message: "queued: 3 jobs ahead of yours",
                    url: { generation: [], thumbnail: [] },
                },
            },
            { status: "success", video: { id: 7, message: "rendering", url: { generation: [], thumbnail: [] } } },
            {
                status: "success",
                video: {
                    id: 7,
                    code: 2,
                    url: {
                        generation: ["https://cdn.example.com/v.mp4"],
                        thumbnail: ["https://cdn.example.com/t.jpg"],
                    },
                },
            },
        ]);
        const { outs } = await p.create(text);
        expect(outs).toMatchObject({ status: "finished", videoUrl: "https://cdn.example.com/v.mp4" });
    });

    it("url.generation as an array of objects finishes the video", async () => {
        const p = await vendorWith([
            {
                status: "success",
                video: {
                    id: 8,
                    url: {
                        generation: [{ url: "https://cdn.example.com/8.mp4" }],
                        thumbnail: [{ url: "https://cdn.example.com/8.jpg" }],
                    },
                },
            },
        ]);
        const { outs } = await p.create(text);
        expect(outs).toMatchObject({
            status: "finished",
            videoUrl: "https://cdn.example.com/8.mp4",
            thumbnailUrl: "https://cdn.example.com/8.jpg",
        });
    });

    it("an unknown word with an error field fails with the vendor's words", async () => {
        const p = await vendorWith([
            { status: "success", video: { uuid: "s1", status: "moderated", error: "prompt violates policy" } },
        ]);
        const err = await createFailure(p, text);
        expect(err.properties).toMatchObject({ status: "failed", failureReason: "prompt violates policy" });
        expect(err.message).toContain("prompt violates policy");
    });

    it("an unknown word without an error field waits, says so in the progress line, and keeps its deadline", async () => {
        const logs: string[] = [];
        let n = 0;
        v = await startFakeVendor((r) => {
            if (/to-video/.test(r.path)) return { status: 200, body: { id: "s1" } };
            n++;
            return { status: 200, body: { status: "success", video: { uuid: "s1", status: "upscaling" } } };
        });
        const p = await handlersFor(v.url, logs);
        const err = await createFailure(p, { ...text, timeoutMinutes: 0.005 });
        expect(err.properties.status).toBe("processing");
        expect(err.message).toContain("deadline passed");
        expect(
            logs.some((l) => l.includes('"upscaling" (a status word this provider does not know; still waiting)')),
        ).toBe(true);
        expect(n).toBeGreaterThan(1);
    });
});

describe("create answers (purpose-built vendor)", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    const vendorAnswering = async (raw: string) => {
        const deleted = new Set<string>();
        v = await startFakeVendor((r) => {
            if (/to-video/.test(r.path))
                return { status: 200, body: raw, headers: { "content-type": "application/json" } };
            const id = /\/v2\/video\/(?:delete\/)?([^/]+)/.exec(r.path)?.[1] ?? "";
            if (/status/.test(r.path))
                return deleted.has(id)
                    ? { status: 404, body: vendorError(1104, "Not Found", "video not found") }
                    : { status: 200, body: finished("x") };
            deleted.add(id);
            return { status: 200, body: { status: "success", message: "video deleted" } };
        });
        return handlersFor(v.url);
    };

    it("reads the id from data.id", async () => {
        const p = await vendorAnswering('{"status":"success","data":{"id":"dv-1"}}');
        expect((await p.create({ ...text, waitForCompletion: false })).id).toBe("dv-1");
    });

    it("keeps a numeric id beyond 2^53 exactly, and deletes that id", async () => {
        const p = await vendorAnswering('{"id": 12345678901234567891, "status": "processing"}');
        const { id, outs } = await p.create({ ...text, waitForCompletion: false });
        expect(id).toBe("12345678901234567891");
        await p.delete(id, outs);
        expect(v.seen()).toContain("DELETE /v2/video/delete/12345678901234567891");
    });

    it("a success without an id is an uncertain generation with the adopt guidance", async () => {
        const p = await vendorAnswering('{"status":"success","message":"queued"}');
        const err = (await createFailure(p, text)) as unknown as { name: string; message: string; id?: string };
        expect(err.name).toBe("ImagineGenerationUncertainError");
        expect(err.id).toBeUndefined();
        expect(err.message).toContain("without a video id");
        expect(err.message).toContain("adoptVideoId");
        expect(v.seen().filter((s) => /to-video/.test(s))).toHaveLength(1);
    });
});

describe("adopting by a numeric id (purpose-built vendor with the legacy shape's integer ids)", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    it('accepts adoptVideoId 1265 as the text id "1265" and records the video', async () => {
        v = await startFakeVendor((r) =>
            r.path === "/v2/video/1265/status"
                ? {
                      status: 200,
                      body: {
                          status: "success",
                          video: {
                              id: 1265,
                              code: 2,
                              url: { generation: ["https://cdn.example.com/1265.mp4"], thumbnail: [] },
                          },
                      },
                  }
                : { status: 404, body: vendorError(1104, "Not Found", "video not found") },
        );
        const p = await handlersFor(v.url);
        const { inputs, failures } = await p.check({}, { adoptVideoId: 1265, __provider: PROVIDER });
        expect(failures).toEqual([]);
        expect(inputs.adoptVideoId).toBe("1265");
        const { id, outs } = await p.create(inputs);
        expect(id).toBe("1265");
        expect(outs).toMatchObject({ videoId: "1265", status: "finished", adoptVideoId: "1265" });
        // The stored "1265" and a program's 1265 are the same input: no replacement.
        const again = (await p.check(inputs, { adoptVideoId: 1265, __provider: PROVIDER })).inputs;
        expect((await p.diff(id, outs, again)).changes).toBe(false);
    });
});

describe("response text in messages: redacted first, then cut", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    it("a proxy page echoing the request headers shows no part of the token", async () => {
        v = await startFakeVendor((r) => ({
            status: 502,
            body: `<html><body><h1>502 Bad Gateway</h1><p>upstream failed; your request was:</p><pre>${r.method} ${r.path}\nAuthorization: ${r.headers.authorization}\nAccept: */*</pre></body></html>`,
        }));
        const p = await handlersFor(v.url, [], { "imagine:deleteTimeoutMinutes": "0.002" });
        const err = await p.delete("vid5", { videoId: "vid5" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).toContain("502");
        expect(err?.message).toContain("Bearer [redacted]");
        expect(err?.message).not.toContain(TOKEN.slice(0, 8));
    });

    it("a failure reason carrying a signed link or the token reaches the outputs and message without them", async () => {
        v = await startFakeVendor((r) =>
            /to-video/.test(r.path)
                ? { status: 200, body: { id: "s9" } }
                : {
                      status: 200,
                      body: {
                          status: "success",
                          video: {
                              uuid: "s9",
                              status: "failed",
                              message: `see https://cdn.example.com/log.txt?X-Amz-Signature=abc123 (key ${TOKEN})`,
                          },
                      },
                  },
        );
        const p = await handlersFor(v.url);
        const err = await createFailure(p, text);
        for (const t of [err.message, String(err.properties.failureReason)]) {
            expect(t).not.toContain("X-Amz-Signature=abc123");
            expect(t).not.toContain(TOKEN);
        }
    });
});
