/** The vendor's documented curl examples, unchanged but for the host, run with the real curl binary. */
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { FakeClock, KEY, start, type Harness } from "./helpers";

const which = spawnSync("which", ["curl"], { encoding: "utf8" });

// curl must run asynchronously: the emulator serves from this same process.
async function curl(args: string[]): Promise<{ status: number; body: any }> {
    const { stdout: out } = await promisify(execFile)(
        "curl",
        ["--silent", "--show-error", "--max-time", "20", "--write-out", "\n%{http_code}", ...args],
        { encoding: "utf8" },
    );
    const nl = out.lastIndexOf("\n");
    return { status: Number(out.slice(nl + 1)), body: JSON.parse(out.slice(0, nl)) };
}

let h: Harness;
const clock = new FakeClock();
beforeEach(async () => {
    h = await start({ now: clock.now, processingSeconds: 720 });
});
afterEach(async () => {
    await h.stop();
});

test("curl is on PATH (these tests must not be skipped)", () => {
    expect(which.status).toBe(0);
    expect(which.stdout.trim()).not.toBe("");
});

test("text to video, status, delete by DELETE, as in the vendor docs", async () => {
    const created = await curl([
        "--request",
        "POST",
        "--url",
        `${h.emu.url}/v2/video/text-to-video`,
        "--header",
        `Authorization: Bearer ${KEY}`,
        "--form",
        "prompt=A majestic eagle soaring over snow-capped mountains at sunset",
        "--form",
        "style=kling-1.0-pro",
    ]);
    expect(created).toEqual({ status: 200, body: { id: expect.any(String), status: "processing" } });
    const id = created.body.id as string;
    clock.advance(720);
    const status = await curl([
        "--request",
        "GET",
        "--url",
        `${h.emu.url}/v2/video/${id}/status`,
        "--header",
        `Authorization: Bearer ${KEY}`,
    ]);
    expect(status.status).toBe(200);
    expect(status.body.video).toMatchObject({ uuid: id, status: "finished" });
    const deleted = await curl([
        "--request",
        "DELETE",
        "--url",
        `${h.emu.url}/v2/video/delete/${id}`,
        "--header",
        `Authorization: Bearer ${KEY}`,
    ]);
    expect(deleted).toEqual({ status: 200, body: { message: "video deleted", status: "success" } });
});

test("image to video with --form file=@..., the assets status by GET, delete by POST", async () => {
    const image = path.join(h.dataDir, "..", `curl-input-${process.pid}.png`);
    fs.writeFileSync(image, Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"));
    try {
        const created = await curl([
            "--request",
            "POST",
            "--url",
            `${h.emu.url}/v2/video/image-to-video`,
            "--header",
            `Authorization: Bearer ${KEY}`,
            "--form",
            "prompt=the waves roll in",
            "--form",
            "style=kling-1.0-pro",
            "--form",
            `file=@${image}`,
        ]);
        expect(created.status).toBe(200);
        const id = created.body.id as string;
        const assets = await curl([
            "--url",
            `${h.emu.url}/v2/assets/${id}/status`,
            "--header",
            `Authorization: Bearer ${KEY}`,
        ]);
        expect(assets.body.video).toMatchObject({ uuid: id, status: "processing" });
        const deleted = await curl([
            "--request",
            "POST",
            "--url",
            `${h.emu.url}/v2/video/delete/${id}`,
            "--header",
            `Authorization: Bearer ${KEY}`,
        ]);
        expect(deleted).toEqual({ status: 200, body: { message: "video deleted", status: "success" } });
    } finally {
        fs.rmSync(image, { force: true });
    }
});
