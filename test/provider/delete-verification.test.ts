/**
 * Verified deletes and deletion receipts, through the provider's methods over real HTTP against the
 * emulator: the file check (no API request, no token), the status fallback for an expired link or
 * none, the modes of imagine:verifyDeletes, deletes the vendor drops or applies late, one that never
 * happens, and receipts (200 deletes at once, several processes appending at once).
 */
import axios from "axios";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { ImagineDeleteNotConfirmedError } from "../../provider/core/errors";
import { countRequests, Harness, PROVIDER, startHarness, TOKEN } from "./harness";
import { until } from "../until";

const ROOT = path.resolve(__dirname, "..", "..");
const identity = (name: string) => ({ project: "shop", stack: "pr-42", name });
const text = (name = "clip") => ({
    prompt: "A lighthouse in a storm",
    style: "kling-1.0-pro",
    identity: identity(name),
    __provider: PROVIDER,
});
const RECEIPT_KEYS = ["videoId", "project", "stack", "name", "deletedAt", "method", "verification", "attempts"];
/** Links that stay valid for the whole test (the emulator runs 1440x faster than the wall clock). */
const LONG_LINKS = { urlTtlSeconds: 100_000_000 };

let h: Harness;
afterEach(async () => {
    await h.stop();
});

const receiptsIn = (file: string) =>
    fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
const apiRequests = (stats: { requests: Record<string, Record<string, number>> }) => countRequests(stats, /\/v2\//);
const fileRequests = (stats: { requests: Record<string, Record<string, number>> }, status?: string) =>
    countRequests(stats, /^GET \/files\//, status);

describe("verification", () => {
    it("proves a delete with the stored file link: one API request (the delete), the file check costs none", async () => {
        h = await startHarness(LONG_LINKS);
        const p = await h.handlers({ "imagine:deletionLog": "receipts.jsonl" });
        const { id, outs } = await p.create(text());
        expect(String(outs.videoUrl)).toContain("/files/");
        const before = await h.emulator.stats();
        await p.delete(id, outs);
        const after = await h.emulator.stats();
        expect(apiRequests(after) - apiRequests(before)).toBe(1);
        expect(countRequests(after, /delete/, "200") - countRequests(before, /delete/, "200")).toBe(1);
        expect(countRequests(after, /status/) - countRequests(before, /status/)).toBe(0);
        expect(fileRequests(after, "404") - fileRequests(before, "404")).toBe(1);
        expect(after.videosStored).toBe(0);
        expect(h.logs).toContain(`video ${id}: deleted (DELETE), confirmed: its file link answers 404`);
        const [receipt] = receiptsIn(path.join(h.dataDir, "receipts.jsonl"));
        expect(receipt).toEqual({
            videoId: id,
            ...identity("clip"),
            deletedAt: expect.any(String),
            method: "DELETE",
            verification: "file-404",
            attempts: 1,
        });
        expect(Object.keys(receipt)).toEqual(RECEIPT_KEYS);
        expect(new Date(String(receipt.deletedAt)).toISOString()).toBe(receipt.deletedAt);
    });

    it("asks storage for one byte without the API token (a link served elsewhere, as the vendor's storage is)", async () => {
        const seen: http.IncomingHttpHeaders[] = [];
        // The file is served until the delete, then gone: asked before the delete (206) and after it (410).
        const storage = http.createServer((req, res) => {
            seen.push(req.headers);
            res.writeHead(seen.length === 1 ? 206 : 410).end();
        });
        await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
        try {
            h = await startHarness(LONG_LINKS);
            const p = await h.handlers({ "imagine:deletionLog": "r.jsonl" });
            const { id, outs } = await p.create(text());
            const link = `http://127.0.0.1:${(storage.address() as AddressInfo).port}/bucket/${id}.mp4?X-Amz-Signature=abc`;
            await p.delete(id, { ...outs, videoUrl: link });
            expect(seen).toHaveLength(2);
            for (const headers of seen) {
                expect(headers.authorization).toBeUndefined();
                expect(JSON.stringify(headers)).not.toContain(TOKEN);
                expect(headers.range).toBe("bytes=0-0");
            }
            expect(receiptsIn(path.join(h.dataDir, "r.jsonl"))[0].verification).toBe("file-404");
        } finally {
            await new Promise((r) => storage.close(r));
        }
    });

    it("falls back to a status read when the stored link has expired (403), where the API's 404 is proof", async () => {
        h = await startHarness({ urlTtlSeconds: 1 });
        const p = await h.handlers({ "imagine:deletionLog": "r.jsonl" });
        const { id, outs } = await p.create(text());
        await new Promise((r) => setTimeout(r, 50)); // 72 emulated seconds: the 1-second link has expired
        expect((await axios.get(String(outs.videoUrl), { validateStatus: () => true })).status).toBe(403);
        const before = await h.emulator.stats();
        await p.delete(id, outs);
        const after = await h.emulator.stats();
        expect(fileRequests(after, "403") - fileRequests(before, "403")).toBe(1);
        expect(countRequests(after, /status/, "404") - countRequests(before, /status/, "404")).toBe(1);
        expect(h.logs).toContain(`video ${id}: deleted (DELETE), confirmed: the API no longer knows it (status 404)`);
        expect(receiptsIn(path.join(h.dataDir, "r.jsonl"))[0]).toMatchObject({
            videoId: id,
            verification: "status-404",
            attempts: 1,
        });
    });

    it("reads the status when there is no stored link, and always with imagine:verifyDeletes=status", async () => {
        h = await startHarness(LONG_LINKS);
        const p = await h.handlers({ "imagine:deletionLog": "r.jsonl" });
        const pending = await p.create({ ...text("pending"), waitForCompletion: false });
        expect(pending.outs.videoUrl).toBeUndefined();
        await p.delete(pending.id, pending.outs);

        const s = await h.handlers({ "imagine:deletionLog": "r.jsonl", "imagine:verifyDeletes": "status" });
        const done = await s.create(text("done"));
        const before = await h.emulator.stats();
        await s.delete(done.id, done.outs);
        const after = await h.emulator.stats();
        expect(fileRequests(after) - fileRequests(before)).toBe(0);
        expect(countRequests(after, /status/, "404") - countRequests(before, /status/, "404")).toBe(1);
        expect(receiptsIn(path.join(h.dataDir, "r.jsonl")).map((r) => [r.name, r.verification])).toEqual([
            ["pending", "status-404"],
            ["done", "status-404"],
        ]);
    });

    it("imagine:verifyDeletes=off trusts the acknowledgement: no check, a receipt saying unverified", async () => {
        h = await startHarness(LONG_LINKS);
        const p = await h.handlers({ "imagine:deletionLog": "r.jsonl", "imagine:verifyDeletes": "off" });
        const { id, outs } = await p.create(text());
        const before = await h.emulator.stats();
        await p.delete(id, outs);
        const after = await h.emulator.stats();
        expect(after.requestsTotal - before.requestsTotal).toBe(1);
        expect(h.logs).toContain(`video ${id}: deleted (DELETE), not verified (imagine:verifyDeletes is off)`);
        expect(receiptsIn(path.join(h.dataDir, "r.jsonl"))[0]).toMatchObject({
            verification: "unverified",
            attempts: 1,
        });
    });

    it("sends the delete again when the vendor acknowledged it but did not apply it (dropFirstDelete)", async () => {
        h = await startHarness({ ...LONG_LINKS, dropFirstDelete: true, deleteMethods: ["POST"] });
        const p = await h.handlers({ "imagine:deletionLog": "r.jsonl" });
        const { id, outs } = await p.create(text());
        await p.delete(id, outs);
        const stats = await h.emulator.stats();
        expect(countRequests(stats, /^POST \/v2\/video\/delete/, "200")).toBe(2);
        // The probe before the delete and the one after the dropped delete found the file served (one
        // byte of it: 206); the one after the second delete found it gone.
        expect(fileRequests(stats, "206")).toBe(2);
        expect(fileRequests(stats, "404")).toBe(1);
        expect(stats.videosStored).toBe(0);
        expect(
            h.logs.some((l) =>
                l.startsWith(
                    `video ${id}: its file is still served after the vendor acknowledged its delete; sending the delete again in`,
                ),
            ),
        ).toBe(true);
        expect(h.logs).toContain(
            `video ${id}: deleted (POST) after 2 delete requests, confirmed: its file link answers 404`,
        );
        expect(receiptsIn(path.join(h.dataDir, "r.jsonl"))).toEqual([
            expect.objectContaining({ videoId: id, method: "POST", verification: "file-404", attempts: 2 }),
        ]);
    });

    it("waits out a vendor that applies deletes late (deleteLagSeconds)", async () => {
        // The delete takes effect 720 emulated seconds after it is acknowledged. The emulator's clock is
        // held still until the provider has seen the file still served, then runs again: the late delete
        // is waited out, whatever the machine's speed.
        h = await startHarness({ ...LONG_LINKS, deleteLagSeconds: 720 });
        const p = await h.handlers({ "imagine:deletionLog": "r.jsonl" });
        const { id, outs } = await p.create(text());
        h.emulator.configure({ clockSpeed: 0 });
        const deleting = p.delete(id, outs);
        await until(
            "the provider to find the file still served",
            async () => fileRequests(await h.emulator.stats(), "206") >= 1,
        );
        h.emulator.configure({ clockSpeed: 1440 });
        await deleting;
        expect((await h.emulator.stats()).videosStored).toBe(0);
        const [receipt] = receiptsIn(path.join(h.dataDir, "r.jsonl"));
        expect(receipt).toMatchObject({ videoId: id, verification: "file-404" });
        expect(receipt.attempts).toBeGreaterThanOrEqual(2);
    });

    it("fails, naming the video, when a delete never happens; the video is deleted by a later try", async () => {
        h = await startHarness({ ...LONG_LINKS, deleteLagSeconds: 1e12 });
        const p = await h.handlers({ "imagine:deletionLog": "r.jsonl", "imagine:deleteTimeoutMinutes": "0.02" });
        const { id, outs } = await p.create(text());
        const started = Date.now();
        const failure = await p.delete(id, outs).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(failure).toBeInstanceOf(ImagineDeleteNotConfirmedError);
        expect((failure as Error).message).toContain(`video ${id}: the Imagine API acknowledged its delete`);
        expect((failure as Error).message).toContain("its file is still served");
        expect((failure as Error).message).not.toContain("signature=");
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(countRequests(await h.emulator.stats(), /delete/, "200")).toBeGreaterThanOrEqual(2);
        expect(fs.existsSync(path.join(h.dataDir, "r.jsonl"))).toBe(false);
        expect((await h.emulator.stats()).videosStored).toBe(1);

        h.emulator.configure({ deleteLagSeconds: 0 });
        await p.delete(id, outs);
        expect(receiptsIn(path.join(h.dataDir, "r.jsonl"))).toEqual([
            expect.objectContaining({ videoId: id, verification: "file-404", attempts: 1 }),
        ]);
    });
});

describe("receipts", () => {
    it("a video already gone, from state written before identities were kept: a receipt with the unknowns as null", async () => {
        h = await startHarness(LONG_LINKS);
        const p = await h.handlers({ "imagine:deletionLog": "audit/deletions.jsonl" });
        const { id, outs } = await p.create(text());
        await axios.delete(`${h.emulator.url}/v2/video/delete/${id}`, {
            headers: { Authorization: `Bearer ${TOKEN}` },
        });
        const oldOutputs = { ...outs };
        delete oldOutputs.identity;
        await p.delete(id, oldOutputs);
        expect(h.logs).toContain(`video ${id}: already gone on the vendor's side`);
        // Relative to the program folder (the provider's cwd), its folder created.
        expect(receiptsIn(path.join(h.dataDir, "audit", "deletions.jsonl"))).toEqual([
            {
                videoId: id,
                project: null,
                stack: null,
                name: null,
                deletedAt: expect.any(String),
                method: "DELETE",
                verification: "already-gone",
                attempts: 1,
            },
        ]);
    });

    it("a receipt that cannot be written warns and does not fail the delete", async () => {
        h = await startHarness(LONG_LINKS);
        fs.writeFileSync(path.join(h.dataDir, "not-a-folder"), "");
        const p = await h.handlers({ "imagine:deletionLog": "not-a-folder/deletions.jsonl" });
        const { id, outs } = await p.create(text());
        await p.delete(id, outs);
        expect((await h.emulator.stats()).videosStored).toBe(0);
        expect(
            h.logs.some((l) =>
                l.startsWith(
                    `warning: video ${id} is deleted, but its receipt could not be written to imagine:deletionLog`,
                ),
            ),
        ).toBe(true);
    });

    it("200 deletes at once: 200 valid JSON lines, one per video, without a URL or the token", async () => {
        h = await startHarness({ ...LONG_LINKS, processingSeconds: 0, credits: 1000 });
        const p = await h.handlers({ "imagine:deletionLog": "deletions.jsonl" });
        // Made without waiting, then refreshed: the outputs a state holds after `up` (with their file links).
        const made = await Promise.all(
            Array.from({ length: 200 }, async (_, i) => {
                const c = await p.create({ ...text(`video-${i}`), waitForCompletion: false });
                return { id: c.id, outs: (await p.read(c.id, c.outs)).props };
            }),
        );
        expect(made.every((m) => String(m.outs.videoUrl).includes("/files/"))).toBe(true);
        await Promise.all(made.map(({ id, outs }) => p.delete(id, outs)));
        expect((await h.emulator.stats()).videosStored).toBe(0);
        const raw = fs.readFileSync(path.join(h.dataDir, "deletions.jsonl"), "utf8");
        expect(raw.endsWith("\n")).toBe(true);
        const receipts = receiptsIn(path.join(h.dataDir, "deletions.jsonl"));
        expect(receipts).toHaveLength(200);
        expect(new Set(receipts.map((r) => r.videoId))).toEqual(new Set(made.map((m) => m.id)));
        for (const r of receipts) {
            expect(Object.keys(r)).toEqual(RECEIPT_KEYS);
            expect(r).toMatchObject({
                project: "shop",
                stack: "pr-42",
                method: "DELETE",
                verification: "file-404",
                attempts: 1,
            });
            expect(r.name).toBe(`video-${made.findIndex((m) => m.id === r.videoId)}`);
        }
        expect(raw).not.toContain("://");
        expect(raw).not.toContain("signature");
        expect(raw).not.toContain(TOKEN);
    }, 180_000);

    it("several processes appending at once never interleave: every line is one whole receipt", async () => {
        h = await startHarness();
        const file = path.join(h.dataDir, "shared.jsonl");
        const script = `
            const { appendReceipt } = require(${JSON.stringify(path.join(ROOT, "dist", "provider", "deletion", "deletion-log.js"))});
            const w = process.argv[1];
            (async () => {
                for (let i = 0; i < 300; i++) {
                    await appendReceipt(${JSON.stringify(file)}, "/", { videoId: w + "-" + i, project: "p", stack: "s", name: "n".repeat(3000),
                        deletedAt: new Date().toISOString(), method: "DELETE", verification: "file-404", attempts: 1 });
                }
            })();`;
        const run = (w: string) =>
            new Promise<number | null>((resolve) =>
                spawn(process.execPath, ["-e", script, w], { stdio: "inherit" }).on("close", resolve),
            );
        expect(await Promise.all(["a", "b", "c", "d"].map(run))).toEqual([0, 0, 0, 0]);
        const receipts = receiptsIn(file);
        expect(receipts).toHaveLength(1200);
        expect(new Set(receipts.map((r) => r.videoId)).size).toBe(1200);
    });
});
