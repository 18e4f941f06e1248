/** Signed file URLs (missing, wrong, expired, valid), real bytes on disk, delete removing them, bytesStored. */
import fs from "node:fs";
import path from "node:path";
import {
    call,
    createVideo,
    expectError,
    FakeClock,
    filesOnDisk,
    PNG,
    remove,
    start,
    status,
    tempDir,
    type Harness,
    auth,
    form,
    finishedVideo,
} from "./helpers";

const clock = new FakeClock();
let h: Harness;
beforeEach(async () => {
    h = await start({ now: clock.now, processingSeconds: 10, urlTtlSeconds: 600, outputBytes: 3000 });
});
afterEach(async () => {
    await h.stop();
});

test("a valid signed URL serves the real bytes on disk (MP4 box and PNG magic)", async () => {
    const { id, generation, thumbnail } = await finishedVideo(h.emu, clock, 10);
    const video = await fetch(generation);
    expect(video.status).toBe(200);
    expect(video.headers.get("content-type")).toBe("video/mp4");
    const bytes = Buffer.from(await video.arrayBuffer());
    expect(bytes.length).toBe(3000);
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(bytes.equals(fs.readFileSync(path.join(h.dataDir, "videos", id, "video.mp4")))).toBe(true);
    const thumb = Buffer.from(await (await fetch(thumbnail)).arrayBuffer());
    expect(thumb.subarray(0, 8).equals(PNG.subarray(0, 8))).toBe(true);
    const stats = await h.emu.stats();
    expect(stats.bytesStored).toBe(3000 + thumb.length);
});

test("Range is honoured as object storage does: 206 with Content-Range, 416 past the end, counted at once", async () => {
    const { id, generation } = await finishedVideo(h.emu, clock, 10);
    const onDisk = fs.readFileSync(path.join(h.dataDir, "videos", id, "video.mp4"));
    const first = await fetch(generation, { headers: { Range: "bytes=0-0" } });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe("bytes 0-0/3000");
    expect(first.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await first.arrayBuffer()).equals(onDisk.subarray(0, 1))).toBe(true);
    const middle = await fetch(generation, { headers: { Range: "bytes=100-199" } });
    expect(middle.headers.get("content-range")).toBe("bytes 100-199/3000");
    expect(Buffer.from(await middle.arrayBuffer()).equals(onDisk.subarray(100, 200))).toBe(true);
    const tail = await fetch(generation, { headers: { Range: "bytes=-10" } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(onDisk.subarray(2990))).toBe(true);
    const open = await fetch(generation, { headers: { Range: "bytes=2999-" } });
    expect(open.headers.get("content-range")).toBe("bytes 2999-2999/3000");
    await open.arrayBuffer();
    const past = await fetch(generation, { headers: { Range: "bytes=3000-" } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */3000");
    await past.arrayBuffer();
    // A client that takes the status line and drops the body is counted all the same.
    const controller = new AbortController();
    const dropped = await fetch(generation, { signal: controller.signal });
    expect(dropped.status).toBe(200);
    controller.abort();
    const counts = (await h.emu.stats()).requests["GET /files/:id/:name"];
    expect(counts).toEqual({ "206": 4, "416": 1, "200": 1 });
});

test("missing, wrong and expired signatures -> 403 with the error body", async () => {
    const { id, generation } = await finishedVideo(h.emu, clock, 10);
    expectError(await call(`${h.emu.url}/files/${id}/video.mp4`), 403, 1105);
    const url = new URL(generation);
    url.searchParams.set("signature", "0".repeat(64));
    expectError(await call(url.toString()), 403, 1105);
    const otherFile = generation.replace("video.mp4", "thumbnail.png");
    expectError(await call(otherFile), 403, 1105); // a signature is bound to its file
    const tampered = new URL(generation);
    tampered.searchParams.set("expires", String(Number(tampered.searchParams.get("expires")) + 1000));
    expectError(await call(tampered.toString()), 403, 1105);
    expect((await call(generation)).status).toBe(200);
    clock.advance(601);
    const expired = await call(generation);
    expectError(expired, 403, 1105);
    expect(expired.json.message).toMatch(/expired/);
});

test("no file URL before the video has finished", async () => {
    const id = await createVideo(h.emu);
    expect((await status(h.emu, id)).json.video.url.generation).toBeNull();
    expect(filesOnDisk(h.dataDir)).toEqual([]);
});

test("delete removes the files from disk; the old URL then answers 404; bytesStored back to 0", async () => {
    const a = await finishedVideo(h.emu, clock, 10);
    const b = await finishedVideo(h.emu, clock, 10);
    const withImage = await call(`${h.emu.url}/v2/video/image-to-video`, {
        method: "POST",
        headers: auth(),
        body: form({ prompt: "p", style: "fast-svd" }, { file: PNG }),
    });
    expect(withImage.status).toBe(200);
    expect((await h.emu.stats()).bytesStored).toBeGreaterThan(6000);
    expect(filesOnDisk(h.dataDir)).toHaveLength(5);
    for (const id of [a.id, b.id, withImage.json.id]) expect((await remove(h.emu, id)).status).toBe(200);
    expect(filesOnDisk(h.dataDir)).toEqual([]);
    expect(fs.readdirSync(path.join(h.dataDir, "videos"))).toEqual([]);
    expectError(await call(a.generation), 404, 1104);
    const stats = await h.emu.stats();
    expect(stats.videosStored).toBe(0);
    expect(stats.bytesStored).toBe(0);
});

test("a URL signed before a restart is still valid after it (secret kept in the data folder)", async () => {
    const { generation } = await finishedVideo(h.emu, clock, 10);
    await h.stop();
    h = await start({ dataDir: h.dataDir, now: clock.now, processingSeconds: 10, urlTtlSeconds: 600 });
    const again = await fetch(generation.replace(/127\.0\.0\.1:\d+/, new URL(h.emu.url).host));
    expect(again.status).toBe(200);
    const elsewhere = await start({ dataDir: tempDir(), now: clock.now });
    try {
        expectError(await call(generation.replace(/127\.0\.0\.1:\d+/, new URL(elsewhere.emu.url).host)), 403, 1105);
    } finally {
        await elsewhere.stop();
    }
});
