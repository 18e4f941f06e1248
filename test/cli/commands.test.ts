/**
 * `imagine-video` status, download, receipts, doctor, sweep, help and version, in-process over real HTTP
 * against the emulator, and with a real redis-server: the shared request budget and doctor's Redis checks.
 * Links and the token are never printed.
 */
import * as fs from "fs";
import Redis from "ioredis";
import * as path from "path";
import type { RunningEmulator } from "imagine-api-emulator";
import { satisfies } from "../../provider/cli/doctor";
import { accountOf } from "../../provider/ledger/ledger";
import { startRedisServer } from "../redis-server";
import { cli, emulator, envFor, KEY, receiptsIn, seed, tempDir } from "./helpers";

let emu: RunningEmulator;
afterEach(async () => {
    await emu?.stop();
});

const noSecrets = (text: string) => {
    expect(text).not.toContain(KEY);
    expect(text).not.toMatch(/signature=|expires=/);
};

it("status: each video's status, created time and file link, without the link; not-found for a gone one", async () => {
    emu = await emulator();
    const [id] = await seed(emu, 1);
    const r = await cli(["status", id, "no-such-video-1"], envFor(emu.url), tempDir());
    expect(r.code).toBe(0);
    expect(r.events).toEqual([
        { id, status: "finished", vendorStatus: "finished", createdAt: expect.any(String), file: "present" },
        { id: "no-such-video-1", status: "not-found" },
    ]);
    const text = await cli(["status", id], envFor(emu.url), tempDir(), { tty: true });
    expect(text.stdout).toContain("file link answers");
    noSecrets(r.stdout + text.stdout);
    expect((await cli(["status", "a/b"], envFor(emu.url), tempDir())).code).toBe(2);
});

it("download: files and thumbnails to DIR/<id>.mp4, atomically, skipped when there; from stack outputs too", async () => {
    emu = await emulator();
    const [a, b] = await seed(emu, 2);
    const dir = tempDir();
    const first = await cli(["download", a, "--to", "out"], envFor(emu.url), dir);
    expect(first.code).toBe(0);
    const files = fs.readdirSync(path.join(dir, "out")).sort();
    expect(files).toEqual([`${a}.mp4`, `${a}.png`]);
    expect(first.events.filter((e) => e.event === "downloaded")).toHaveLength(2);
    const again = await cli(["download", a, "--to", "out"], envFor(emu.url), dir);
    expect(again.events.filter((e) => e.event === "skipped")).toHaveLength(2);

    const status = (await (
        await fetch(`${emu.url}/v2/video/${b}/status`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { video: { url: { generation: string } } };
    const outputs = { teaser: { videoId: b, videoUrl: status.video.url.generation }, count: 2 };
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
    const fromOutputs = await cli(["download", "--from-outputs", "outputs.json", "--to", "o2"], envFor(emu.url), dir);
    expect(fromOutputs.code).toBe(0);
    expect(fs.readdirSync(path.join(dir, "o2")).sort()).toEqual([`${b}.mp4`, `${b}.png`]);
    // The files on disk are the emulator's bytes.
    const stored = Buffer.from(await (await fetch(status.video.url.generation)).arrayBuffer());
    expect(stored.length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, "o2", `${b}.mp4`)).equals(stored)).toBe(true);
    expect(fs.readdirSync(path.join(dir, "o2")).some((f) => f.includes(".part"))).toBe(false);
    noSecrets(first.stdout + again.stdout + fromOutputs.stdout + fromOutputs.stderr);

    const missing = await cli(["download", "gone-video-1", "--to", "o3"], envFor(emu.url), dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("failed gone-video-1");
    expect((await cli(["download", a], envFor(emu.url), dir)).code).toBe(2);
});

it("receipts: lists and filters; --verify exits 1 naming a video that came back", async () => {
    emu = await emulator();
    const [deleted, alive] = await seed(emu, 2);
    const dir = tempDir();
    expect((await cli(["delete", deleted, "--reason", "audit"], envFor(emu.url), dir)).code).toBe(0);
    const file = path.join(dir, "imagine-deletions.jsonl");
    const listed = await cli(["receipts"], envFor(emu.url), dir);
    expect(listed.events).toEqual([expect.objectContaining({ videoId: deleted, reason: "audit", source: "cli" })]);
    const ok = await cli(["receipts", "--verify"], envFor(emu.url), dir);
    expect(ok.code).toBe(0);
    expect(ok.events.at(-1)).toMatchObject({ event: "summary", verified: 1, cameBack: 0 });

    // A receipt of a video the API still knows: "came back".
    const forged = { ...receiptsIn(file)[0], videoId: alive, stack: "pr-1", deletedAt: "2030-01-01T00:00:00.000Z" };
    fs.appendFileSync(file, JSON.stringify(forged) + "\n");
    const audit = await cli(["receipts", "--verify"], envFor(emu.url), dir);
    expect(audit.code).toBe(1);
    expect(audit.stderr).toContain(`CAME BACK ${alive}`);
    const filtered = await cli(["receipts", "--stack", "pr-1", "--since", "2029-12-31"], envFor(emu.url), dir);
    expect(filtered.events.map((e) => e.videoId)).toEqual([alive]);
    expect((await cli(["receipts", "--since", "yesterday-ish"], envFor(emu.url), dir)).code).toBe(2);
    expect((await cli(["receipts", "--receipts", "nope.jsonl"], envFor(emu.url), dir)).code).toBe(2);
});

it("sweep: deletes the ledger's old accepted generations of this key, keeps handed and recent ones", async () => {
    emu = await emulator();
    const [orphan, handed, recent] = await seed(emu, 3);
    const dir = tempDir();
    const account = accountOf(emu.url, KEY);
    const key = { project: "shop", stack: "pr-7", name: "teaser" };
    const old = Date.now() - 3 * 3_600_000;
    const line = (videoId: string, state: string, at: number) =>
        JSON.stringify({ op: "put", key, videoId, digest: "sha256:x", account, state, at });
    fs.mkdirSync(path.join(dir, ".imagine"));
    const ledger = path.join(dir, ".imagine", "ledger.jsonl");
    fs.writeFileSync(
        ledger,
        [line(orphan, "accepted", old), line(handed, "handed", old), line(recent, "accepted", Date.now())].join("\n") +
            "\n",
    );
    const dry = await cli(["sweep", "--dry-run"], envFor(emu.url), dir);
    expect(dry.events.filter((e) => e.event === "would-delete").map((e) => e.id)).toEqual([orphan]);
    const r = await cli(["sweep", "--older-than", "2h"], envFor(emu.url), dir);
    expect(r.code).toBe(0);
    expect(receiptsIn(path.join(dir, "imagine-deletions.jsonl"))).toEqual([
        expect.objectContaining({ videoId: orphan, ...key, source: "cli", reason: expect.stringContaining("sweep") }),
    ]);
    expect((await emu.stats()).videosStored).toBe(2);
    const again = await cli(["sweep", "--dry-run"], envFor(emu.url), dir);
    expect(again.events.filter((e) => e.event === "would-delete")).toEqual([]);
    expect((await cli(["sweep", "--older-than", "soon"], envFor(emu.url), dir)).code).toBe(2);
});

it("doctor: every check passes against the emulator; an unreachable endpoint and a wrong token fail (exit 1)", async () => {
    emu = await emulator();
    const dir = tempDir();
    const ok = await cli(["doctor"], envFor(emu.url), dir);
    expect(ok.code).toBe(0);
    expect(ok.events.map((e) => [e.check, e.verdict])).toEqual([
        ["settings", "ok"],
        ["endpoint", "ok"],
        ["token", "ok"],
        ["ledger path", "ok"],
        ["node", "ok"],
        ["@pulumi/pulumi", "ok"],
    ]);
    const wrong = await cli(["doctor"], envFor(emu.url, { IMAGINE_API_TOKEN: "vk-wrongKEY0123456789" }), dir);
    expect(wrong.code).toBe(1);
    expect(wrong.events.find((e) => e.check === "token")).toMatchObject({ verdict: "fail" });
    const down = await cli(["doctor"], envFor("http://127.0.0.1:1"), dir);
    expect(down.code).toBe(1);
    expect(down.events.find((e) => e.check === "endpoint")).toMatchObject({ verdict: "fail" });
    noSecrets(ok.stdout + wrong.stdout + down.stdout);
    expect(satisfies("3.248.0", ">=3.216.0 <4.0.0")).toBe(true);
    expect(satisfies("4.0.0", ">=3.216.0 <4.0.0")).toBe(false);
    expect(satisfies("18.19.0", ">=20")).toBe(false);
});

it("with IMAGINE_REDIS_URL: deletes draw on the shared budget in Redis; doctor checks Redis", async () => {
    const redis = await startRedisServer();
    const client = new Redis(redis.url);
    try {
        emu = await emulator();
        const ids = await seed(emu, 3);
        const dir = tempDir();
        const env = envFor(emu.url, { IMAGINE_REDIS_URL: redis.url });
        const r = await cli(["delete", ...ids], env, dir);
        expect(r.code).toBe(0);
        expect(await client.keys("imagine-video:budget:*")).not.toHaveLength(0);
        await client.config("SET", "appendonly", "no"); // the test's redis-server starts with it on
        await client.config("SET", "save", "");
        const off = await cli(["doctor"], env, dir);
        expect(off.events.find((e) => e.check === "redis persistence")).toMatchObject({ verdict: "fail" });
        expect(off.code).toBe(1);
        await client.config("SET", "appendonly", "yes");
        const on = await cli(["doctor"], env, dir);
        expect(on.events.filter((e) => String(e.check).startsWith("redis")).map((e) => [e.check, e.verdict])).toEqual([
            ["redis", "ok"],
            ["redis scripting", "ok"],
            ["redis persistence", "ok"],
            ["redis eviction", "ok"],
            ["redis clock", "ok"],
        ]);
        expect(on.code).toBe(0);

        // A managed Redis that refuses CONFIG: persistence it does not show is a warning, not a failure;
        // eviction is still read (INFO is allowed).
        await client.call("ACL", "SETUSER", "managed", "on", ">managed-secret", "~*", "&*", "+@all", "-config");
        await client.config("SET", "appendonly", "no");
        const managedUrl = redis.url.replace("redis://", "redis://managed:managed-secret@");
        const managed = await cli(["doctor"], envFor(emu.url, { IMAGINE_REDIS_URL: managedUrl }), dir);
        expect(managed.events.find((e) => e.check === "redis persistence")).toMatchObject({
            verdict: "warn",
            detail: expect.stringMatching(/^unknown/),
        });
        expect(managed.events.find((e) => e.check === "redis eviction")).toMatchObject({ verdict: "ok" });
        expect(managed.stdout).not.toContain("managed-secret");
    } finally {
        client.disconnect();
        await redis.stop();
    }
});

it("--help, COMMAND --help, --version, unknown commands", async () => {
    const dir = tempDir();
    const help = await cli(["--help"], {}, dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: imagine-video COMMAND");
    for (const c of ["delete", "status", "download", "sweep", "receipts", "doctor", "janitor", "preview-comment"]) {
        const r = await cli([c, "--help"], {}, dir);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`imagine-video ${c}`);
    }
    expect((await cli(["--version"], {}, dir)).stdout).toMatch(/^imagine-video \d+\.\d+\.\d+/);
    expect((await cli(["frobnicate"], {}, dir)).code).toBe(2);
    expect((await cli(["delete", "--bogus"], {}, dir)).code).toBe(2);
});
