/**
 * Proof only where proof was possible, over real HTTP: a 404 counts as "no such video" only in the
 * vendor's words or from an endpoint that tells it apart from a URL it does not serve (a FastAPI-style
 * server answering `{"detail":"Not Found"}` to everything proves nothing); a 404 from another endpoint
 * than the one that made the video proves nothing (endpointFingerprint); a stored link that answered 404
 * before the delete proves nothing after it (a stale link with a dropped delete); status words that are
 * not failures (`expired`, an unknown word) never turn a video into a failed one.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { startEmulator } from "imagine-api-emulator";
import { ImagineOtherEndpointError, ImagineProtocolError } from "../../provider/core/errors";
import { diffVideo } from "../../provider/methods/diff";
import { FakeVendor, finished, startFakeVendor } from "./fake-vendor";
import { countRequests, handlersFor, Harness, PROVIDER, startHarness, TOKEN } from "./harness";

jest.setTimeout(30_000);

const text = (name = "clip") => ({
    prompt: "A lighthouse in a storm",
    style: "kling-1.0-pro",
    identity: { project: "shop", stack: "dev", name },
    __provider: PROVIDER,
});
const fingerprintOf = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);
const LONG_LINKS = { urlTtlSeconds: 100_000_000 };

const failureOf = (p: Promise<unknown>) =>
    p.then(
        () => undefined,
        (e: unknown) => e as Error,
    );

describe("a 404 that is not the vendor's (purpose-built vendor)", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    it('a FastAPI-style server answering {"detail":"Not Found"} to every URL: destroy fails loudly, refresh fails, nothing is counted gone', async () => {
        v = await startFakeVendor(() => ({ status: 404, body: { detail: "Not Found" } }));
        const logs: string[] = [];
        const p = await handlersFor(v.url, logs);
        const props = { videoId: "v1", status: "finished", keyFingerprint: fingerprintOf(TOKEN) };
        const err = await failureOf(p.delete("v1", props));
        expect(err).toBeInstanceOf(ImagineProtocolError);
        expect(err?.message).toContain("this proves nothing about the video");
        expect(err?.message).toContain("stays in the stack");
        expect(logs).not.toContain("video v1: already gone on the vendor's side");
        await expect(p.read("v1", props)).rejects.toBeInstanceOf(ImagineProtocolError);
        // One canary request for the client's life, not one per read.
        expect(v.seen().filter((s) => /canary/.test(s))).toHaveLength(1);
    });

    it("a FastAPI-style vendor whose video routes answer their own 404: one canary tells them apart, and the log says so", async () => {
        v = await startFakeVendor((r) =>
            /^\/v2\/video\/(delete\/gone1|gone1\/status)$/.test(r.path)
                ? { status: 404, body: { detail: "Video not found" } }
                : { status: 404, body: { detail: "Not Found" } },
        );
        const logs: string[] = [];
        const p = await handlersFor(v.url, logs);
        await expect(p.delete("gone1", { videoId: "gone1" })).resolves.toBeUndefined();
        expect(logs).toContain("video gone1: already gone on the vendor's side");
        expect(logs.some((l) => /answers a URL it does not serve unlike .*one canary request showed/.test(l))).toBe(
            true,
        );
        expect((await p.read("gone1", { videoId: "gone1" })).id).toBe("");
    });
});

describe("another endpoint (two emulators accepting the same key)", () => {
    it("records endpointFingerprint; destroy against another endpoint fails loudly and keeps the video; refresh keeps it", async () => {
        const h: Harness = await startHarness(LONG_LINKS);
        const second = await startEmulator({ dataDir: path.join(h.dataDir, "second"), tokens: [TOKEN] });
        try {
            const p = await h.handlers();
            const { id, outs } = await p.create(text());
            expect(outs.endpointFingerprint).toBe(fingerprintOf(h.emulator.url));
            const moved = await h.handlers({ "imagine:baseUrl": second.url });
            const err = await failureOf(moved.delete(id, outs));
            expect(err).toBeInstanceOf(ImagineOtherEndpointError);
            expect(err?.message).toContain(`the endpoint whose fingerprint is ${fingerprintOf(h.emulator.url)}`);
            expect(err?.message).toContain("It stays in the stack");
            const read = await moved.read(id, outs);
            expect(read.id).toBe(id);
            expect(
                h.logs.some((l) =>
                    l.startsWith(
                        `video ${id}: the Imagine API says it does not exist, but it was made at the endpoint`,
                    ),
                ),
            ).toBe(true);
            expect((await h.emulator.stats()).videosStored).toBe(1);
            // Back at the endpoint that made it, destroy works.
            await p.delete(id, outs);
            expect((await h.emulator.stats()).videosStored).toBe(0);
        } finally {
            await second.stop();
            await h.stop();
        }
    });
});

describe("the stored link is proof only if it worked before the delete (emulator)", () => {
    it("a stale link (a moved bucket) and a delete the vendor acknowledged but dropped: the status is read, the delete sent again", async () => {
        const h = await startHarness({ ...LONG_LINKS, dropFirstDelete: true });
        try {
            const p = await h.handlers({ "imagine:deletionLog": "r.jsonl" });
            const { id, outs } = await p.create(text());
            const stale = String(outs.videoUrl).replace("/files/", "/files/moved/");
            await p.delete(id, { ...outs, videoUrl: stale });
            const stats = await h.emulator.stats();
            expect(stats.videosStored).toBe(0);
            expect(countRequests(stats, /delete/, "200")).toBe(2);
            expect(h.logs).toContain(
                `video ${id}: its stored file link answers 404 before the delete (a stale link), so it cannot prove the delete; the status is read instead`,
            );
            const receipts = fs
                .readFileSync(path.join(h.dataDir, "r.jsonl"), "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l));
            expect(receipts).toEqual([
                expect.objectContaining({ videoId: id, verification: "status-404", attempts: 2 }),
            ]);
        } finally {
            await h.stop();
        }
    });
});

describe("status words (purpose-built vendor)", () => {
    let v: FakeVendor;
    afterEach(async () => v?.stop());

    it("`expired` on refresh is a finished video whose files are gone: not failed, and the next up replaces nothing", async () => {
        let word = "finished";
        v = await startFakeVendor(() =>
            word === "finished"
                ? { status: 200, body: finished("old1") }
                : {
                      status: 200,
                      body: {
                          status: "success",
                          video: { uuid: "old1", status: word, created_at: "2025-03-04T07:09:25Z" },
                      },
                  },
        );
        const logs: string[] = [];
        const p = await handlersFor(v.url, logs);
        const inputs = { prompt: "p", style: "kling-1.0-pro" };
        const before = (await p.read("old1", { ...inputs, videoId: "old1", status: "processing" })).props;
        expect(before.status).toBe("finished");
        word = "expired";
        const read = await p.read("old1", before);
        expect(read.id).toBe("old1");
        expect(read.props.status).toBe("expired");
        expect(read.props.videoUrl).toBeUndefined();
        expect(read.props.failureReason).toBeUndefined();
        expect(diffVideo(read.props, inputs).replaces).toEqual([]);
        // A word the provider does not know (here `timeout`) decides nothing: the video stays expired.
        word = "timeout";
        const again = await p.read("old1", read.props);
        expect(again.props.status).toBe("expired");
        expect(logs).toContain(
            'video old1: the vendor\'s status word "timeout" is not one this provider knows; the video stays expired',
        );
        expect(diffVideo(again.props, inputs).replaces).toEqual([]);
    });
});
