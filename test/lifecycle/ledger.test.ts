/**
 * The ledger of accepted generations through the engine stand-in (real program host, real provider
 * host) against the emulator: a `pulumi up` killed with -9 (program host and provider host) right after
 * the vendor accepted a generation, then `up` again, on the same machine (file ledger in the program
 * folder) and on a fresh copy of the program folder sharing only the state and a real Redis; a prompt
 * changed after the interruption; `--replace`; a corrupt and an unusable ledger file. Scenarios share
 * operations where they can (each `up` starts a program host and a provider host, over a second of CPU
 * each): the unchanged and the changed prompt after one interrupted up; a test ends with a destroy only
 * where the destroy is what it checks (the Redis keys it removes; an unusable ledger; Redis down). The
 * emulator's clock is slow (120x) only while an up is to be killed as it waits, fast (1440x) after.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import { startEmulator, RunningEmulator } from "../../emulator";
import { OperationResult } from "../engine";
import { startRedisServer } from "../redis-server";
import { countRequests } from "../provider/harness";
import { expectOk, FIXTURE, opsOf, TOKEN, VideoSpec, VideoStack } from "./stack-harness";

const ROOT = path.resolve(__dirname, "..", "..");
const GENERATIONS = /POST \/v2\/video\/(text|image)-to-video/;

let dir: string;
let emulator: RunningEmulator;
beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-ledger-"));
    // A generation takes 720 emulated seconds: 6 s at 120x, long enough to kill the up while it waits.
    emulator = await startEmulator({
        dataDir: path.join(dir, "emulator"),
        tokens: [TOKEN],
        processingSeconds: 720,
        clockSpeed: 120,
    });
});
afterEach(async () => {
    await emulator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of the videos program in its own folder (as a CI runner checks it out), with the repo's node_modules. */
function programCopy(name: string): string {
    const p = path.join(dir, name);
    fs.mkdirSync(p);
    for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(FIXTURE, f), path.join(p, f));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(p, "node_modules"), "dir");
    return p;
}

/** A stack of `videos` run from `programDir`, its state in the shared temp folder; the ledger where the settings say. */
function stackIn(programDir: string, videos: VideoSpec[], config: Record<string, string> = {}): VideoStack {
    // "" unsets the harness's ledger path: the default, .imagine/ledger.jsonl in the program folder.
    const s = new VideoStack(
        emulator,
        dir,
        programDir,
        { "imagine:ledgerPath": "", ...config },
        "test",
        path.join(dir, "state.json"),
    );
    s.setVideos(videos);
    return s;
}

/** `up`, killed with -9 (program host, provider host, engine) once `n` generations have started. */
async function upKilledAfterAcceptance(s: VideoStack, n = 1): Promise<OperationResult> {
    let started = 0;
    let kill: Promise<void> | undefined;
    s.onLine = (line) => {
        if (/generation started/.test(line) && ++started === n) kill = s.stack.kill();
    };
    const r = await s.stack.up();
    await kill;
    s.onLine = undefined;
    expect(started).toBe(n);
    expect(r.ok).toBe(false);
    return r;
}

const generations = async () => countRequests(await emulator.stats(), GENERATIONS, "200");
const output = (r: OperationResult) => r.stdout + r.stderr + JSON.stringify(r.diagnostics);
const ledgerFile = (programDir: string) => path.join(programDir, ".imagine", "ledger.jsonl");

it("an up killed after acceptance, then up again on the same machine: a video whose inputs are unchanged is adopted and recorded, one whose prompt changed is made anew and the interrupted one deleted, not leaked; corrupt lines are reported and skipped; --replace then never adopts", async () => {
    const prog = programCopy("program");
    // A ledger someone damaged: garbage lines, reported and skipped; the entries after them still count.
    fs.mkdirSync(path.join(prog, ".imagine"));
    fs.writeFileSync(ledgerFile(prog), 'this is not json\n{"op":"put"}\n');
    // Two scenarios on one interrupted up: `clip` comes back unchanged, `idea` with its prompt changed.
    const s = stackIn(prog, [
        { name: "clip", prompt: "a lighthouse in a storm", style: "kling-1.0-pro" },
        { name: "idea", prompt: "first idea", style: "kling-1.0-pro" },
    ]);
    await upKilledAfterAcceptance(s, 2);
    // The moment that needed the slow clock (a kill while both wait) has passed.
    emulator.configure({ clockSpeed: 1440 });
    expect(s.videos()).toEqual([]); // the engine never learned the ids
    expect((await emulator.stats()).videosStored).toBe(2);
    const ledger = fs.readFileSync(ledgerFile(prog), "utf8");
    expect(ledger).toMatch(/"state":"accepted"/);
    expect(ledger).not.toContain(TOKEN);
    expect(ledger).not.toMatch(/https?:/);
    const entries = ledger
        .split("\n")
        .slice(2)
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { key: { name: string }; videoId: string });
    const firstIdea = entries.find((e) => e.key.name === "idea")!.videoId;
    const cutLine = ledger.split("\n").length; // the ledger ends with a line break: the next line's number
    fs.appendFileSync(ledgerFile(prog), '{"op":"put","key":{"proj'); // and a write cut short

    s.setVideos([
        { name: "clip", prompt: "a lighthouse in a storm", style: "kling-1.0-pro" },
        { name: "idea", prompt: "second idea", style: "kling-1.0-pro" },
    ]);
    const r = expectOk(await s.stack.up());
    const text = output(r);
    expect(text).toContain("line 1 is not a ledger entry (corrupt)");
    expect(text).toContain("line 2 is not a ledger entry (corrupt)");
    expect(text).toContain(`line ${cutLine} is not a ledger entry (cut short`);
    expect(await generations()).toBe(3); // the two interrupted, and idea's second idea
    const video = s.videos().find((v) => v.urn.endsWith("::clip"))!;
    const idea = s.videos().find((v) => v.urn.endsWith("::idea"))!;
    // clip: adopted, not generated again.
    expect(text).toContain(`video ${video.id}: adopted from the ledger`);
    expect(text.match(/adopted from the ledger/g)).toHaveLength(1);
    expect(video.outputs.status).toBe("finished");
    expect(await s.vendorStatus(video.id!)).toBe(200);
    // idea: the interrupted video (other inputs) is deleted, not adopted; a new one is made.
    expect(text).toContain(`video ${firstIdea}: started by an interrupted`);
    expect(idea.id).not.toBe(firstIdea);
    expect(await s.vendorStatus(firstIdea)).toBe(404);
    expect((await emulator.stats()).videosStored).toBe(2);
    // Handed to the engine moments ago: still in the ledger, but a replacement must not take it.
    expect(fs.readFileSync(ledgerFile(prog), "utf8")).toContain(`"videoId":"${video.id}","digest"`);

    const replaced = expectOk(await s.stack.up({ replace: [video.urn] }));
    expect(replaced.steps.filter((x) => x.name === "clip").map((x) => x.op)).toEqual(
        expect.arrayContaining(["create-replacement", "delete-replaced"]),
    );
    expect(output(replaced)).not.toContain("adopted from the ledger");
    const replacement = s.videos().find((v) => v.urn.endsWith("::clip"))!;
    expect(replacement.id).not.toBe(video.id);
    expect(await generations()).toBe(4);
    expect(await s.vendorStatus(video.id!)).toBe(404);
    expect((await emulator.stats()).videosStored).toBe(2);
}, 180_000);

it("the second up on a fresh copy of the program folder, sharing only the state and Redis, adopts the video", async () => {
    const redis = await startRedisServer();
    try {
        const videos = [
            { name: "clip", prompt: "a harbour at dusk", style: "kling-1.0-pro" },
            { name: "other", prompt: "a forest", style: "fast-svd" },
        ];
        const lost = programCopy("lost-runner");
        await upKilledAfterAcceptance(stackIn(lost, videos, { "imagine:redisUrl": redis.url }), 2);
        emulator.configure({ clockSpeed: 1440 }); // the kill, which needed the slow clock, is over
        expect((await emulator.stats()).videosStored).toBe(2);
        expect(fs.readFileSync(ledgerFile(lost), "utf8")).toMatch(/"state":"accepted"/); // a copy beside Redis
        const client = new Redis(redis.url);
        const ledgerKeys = () => client.keys("imagine:ledger:*");
        try {
            // The organization the host passes (the stand-in passes `organization`), no parent.
            expect((await ledgerKeys()).sort()).toEqual([
                "imagine:ledger:organization:videos:test::clip",
                "imagine:ledger:organization:videos:test::other",
            ]);
            const entry = Object.values(await client.hgetall("imagine:ledger:organization:videos:test::clip"))[0];
            expect(JSON.parse(entry)).toMatchObject({
                state: "accepted",
                key: { organization: "organization", project: "videos", stack: "test", name: "clip" },
                owner: expect.any(String),
                leaseUntil: expect.any(Number),
            });
            expect(entry).not.toContain(TOKEN);
            expect(await client.pttl("imagine:ledger:organization:videos:test::clip")).toBeGreaterThan(6 * 86_400_000);

            const fresh = programCopy("fresh-runner");
            const s = stackIn(fresh, videos, { "imagine:redisUrl": redis.url });
            const r = expectOk(await s.stack.up());
            expect(output(r).match(/adopted from the ledger/g)).toHaveLength(2);
            expect(await generations()).toBe(2);
            expect(s.videos().map((v) => v.outputs.status)).toEqual(["finished", "finished"]);

            expectOk(await s.stack.destroy());
            expect((await emulator.stats()).videosStored).toBe(0);
            expect(await generations()).toBe(2);
            expect(await client.keys("imagine:ledger*")).toEqual([]);
        } finally {
            client.disconnect();
        }
    } finally {
        await redis.stop();
    }
}, 120_000);

it("an unusable ledger (its path is a folder) is reported and never fails up or destroy", async () => {
    const prog = programCopy("program");
    fs.mkdirSync(path.join(prog, ".imagine", "ledger.jsonl"), { recursive: true });
    emulator.configure({ clockSpeed: 1440 });
    const s = stackIn(prog, [{ name: "clip", prompt: "a quiet street", style: "fast-svd" }]);
    const up = expectOk(await s.stack.up());
    expect(output(up)).toMatch(/the ledger file \.imagine\/ledger\.jsonl could not be read \(EISDIR\)/);
    expect(output(up)).toMatch(/could not be written \(EISDIR\)/);
    expect(s.videos()).toHaveLength(1);
    expect(opsOf(up)).toEqual(["create clip"]);
    expectOk(await s.stack.destroy());
    expect((await emulator.stats()).videosStored).toBe(0);
}, 120_000);

it("Redis down: the ledger falls back to the file with a warning, and the next up still adopts", async () => {
    const redis = await startRedisServer();
    try {
        redis.kill9();
        const prog = programCopy("program");
        const s = stackIn(prog, [{ name: "clip", prompt: "a snowy pass", style: "kling-1.0-pro" }], {
            "imagine:redisUrl": redis.url,
        });
        await upKilledAfterAcceptance(s);
        expect(fs.readFileSync(ledgerFile(prog), "utf8")).toMatch(/"state":"accepted"/);

        emulator.configure({ clockSpeed: 1440 });
        const r = expectOk(await s.stack.up());
        expect(output(r)).toMatch(/Redis \(imagine:redisUrl\) is unavailable/);
        expect(output(r)).toContain("adopted from the ledger");
        // Messages may name where Redis is (scheme, host, port), never credentials.
        expect(output(r)).not.toMatch(/rediss?:\/\/[^\s]*@/);
        expect(await generations()).toBe(1);
        expectOk(await s.stack.destroy());
        expect((await emulator.stats()).videosStored).toBe(0);
    } finally {
        await redis.stop();
    }
}, 120_000);

it("a flushed Redis after an interrupted `up --replace`: a plain up adopts the replacement from the file copy and deletes the old video", async () => {
    const redis = await startRedisServer();
    const client = new Redis(redis.url);
    try {
        const prog = programCopy("program");
        const s = stackIn(prog, [{ name: "clip", prompt: "a windmill", style: "kling-1.0-pro" }], {
            "imagine:redisUrl": redis.url,
        });
        emulator.configure({ clockSpeed: 1440 });
        expectOk(await s.stack.up());
        const [old] = s.videos();
        emulator.configure({ clockSpeed: 120 });
        // `up --replace` killed while it waits for the replacement: the engine never recorded it.
        let kill: Promise<void> | undefined;
        s.onLine = (line) => {
            if (/generation started/.test(line)) kill ??= s.stack.kill();
        };
        const killed = await s.stack.up({ replace: [old.urn] });
        await kill;
        s.onLine = undefined;
        expect(killed.ok).toBe(false);
        expect(s.videos().map((v) => v.id)).toEqual([old.id]);
        expect(await generations()).toBe(2);
        await client.flushall(); // Redis restarted without persistence, or FLUSHALL, or evicted

        emulator.configure({ clockSpeed: 1440 });
        const r = expectOk(await s.stack.up());
        expect(output(r)).toContain("an interrupted `pulumi up --replace` started video");
        expect(output(r)).toContain("adopted from the ledger");
        expect(await generations()).toBe(2); // nothing paid twice
        const [now] = s.videos();
        expect(now.id).not.toBe(old.id);
        expect(await s.vendorStatus(old.id!)).toBe(404);
        expect((await emulator.stats()).videosStored).toBe(1);
        // Settled: the next plain up changes nothing.
        expect(opsOf(expectOk(await s.stack.up())).filter((o) => !o.startsWith("same"))).toEqual([]);
    } finally {
        client.disconnect();
        await redis.stop();
    }
}, 120_000);
