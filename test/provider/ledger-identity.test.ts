/**
 * The ledger cannot be fooled by names, through the provider's methods over real HTTP (emulator) and a
 * real redis-server shared by two provider instances (two runners): two stacks `alice/shop/dev` and
 * `bob/shop/dev` of two organizations, and a stack renamed onto Alice's identity, never touch the video
 * Alice's `up` is still waiting for; a ledger video adopted under a new name (`adoptVideoId`) is neither
 * adopted nor swept when the old name is created again.
 */
import axios from "axios";
import Redis from "ioredis";
import { definingDigest } from "../../provider/ledger/ledger";
import { FileLedgerStore } from "../../provider/ledger/ledger-file";
import { RedisLedgerStore } from "../../provider/ledger/ledger-redis";
import { accountOf } from "../../provider/ledger/ledger";
import { closeSharedRedis, connectRedis } from "../../provider/budget/redis-connection";
import { RunningRedis, startRedisServer } from "../redis-server";
import { until } from "../until";
import { countRequests, Harness, PROVIDER, startHarness, TOKEN } from "./harness";
import * as path from "path";

jest.setTimeout(60_000);

const GENERATIONS = /POST \/v2\/video\/(text|image)-to-video/;
const identity = (organization: string | undefined, name = "clip") => ({
    ...(organization ? { organization } : {}),
    project: "shop",
    stack: "dev",
    name,
});
const video = (prompt: string, who: ReturnType<typeof identity>) => ({
    prompt,
    style: "kling-1.0-pro",
    identity: who,
    __provider: PROVIDER,
});

let h: Harness;
let redis: RunningRedis;
const clients: Redis[] = [];
beforeEach(async () => {
    redis = await startRedisServer();
});
afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    await closeSharedRedis();
    await h?.stop();
    await redis.stop();
});

/** A provider instance of its own (as another runner's provider process would be), on the shared Redis. */
const runner = (config: Record<string, string> = {}) =>
    h.handlers(
        { "imagine:redisUrl": redis.url, ...config },
        {
            redis: (url) => {
                const c = connectRedis(url, () => undefined);
                clients.push(c);
                return c;
            },
        },
    );
const vendorHas = async (id: string) =>
    (
        await axios.get(`${h.emulator.url}/v2/video/${id}/status`, {
            headers: { Authorization: `Bearer ${TOKEN}` },
            validateStatus: () => true,
        })
    ).status === 200;

it("two organizations' stacks of one name, and a stack renamed onto Alice's: the video Alice's up waits for is never touched", async () => {
    // A generation takes 720 emulated seconds; held still until the others have run.
    h = await startHarness({ processingSeconds: 720, clockSpeed: 0 });
    const alice = await runner();
    const aliceUp = alice.create(video("a lighthouse", identity("alice")));
    const ledger = new Redis(redis.url);
    clients.push(ledger);
    await until("Alice's video in the ledger", async () => (await ledger.keys("imagine:ledger:alice:*")).length === 1);
    const [aliceId] = await ledger.hkeys((await ledger.keys("imagine:ledger:alice:*"))[0]);

    // Bob: another organization, the same project, stack and name, another prompt.
    const bob = await runner({ "imagine:ledgerPath": path.join(h.dataDir, "bob-ledger.jsonl") });
    const bobs = await bob.create({ ...video("a harbour", identity("bob")), waitForCompletion: false });
    // A stack renamed (or moved) onto Alice's very identity, on another runner: Alice's lease holds.
    const renamed = await runner({ "imagine:ledgerPath": path.join(h.dataDir, "renamed-ledger.jsonl") });
    const theirs = await renamed.create({ ...video("a forest", identity("alice")), waitForCompletion: false });

    expect(await vendorHas(aliceId)).toBe(true);
    expect(h.logs.join("\n")).not.toContain(`video ${aliceId}: started by an interrupted`);
    expect(h.logs.join("\n")).not.toContain(`video ${aliceId}: adopted from the ledger`);
    h.emulator.configure({ clockSpeed: 1440 });
    const done = await aliceUp;
    expect(done.id).toBe(aliceId);
    expect(done.outs.status).toBe("finished");
    expect(new Set([aliceId, bobs.id, theirs.id]).size).toBe(3);
    expect(countRequests(await h.emulator.stats(), GENERATIONS, "200")).toBe(3);
});

it("a ledger video adopted under a new name with adoptVideoId is neither swept nor adopted when the old name is created again", async () => {
    h = await startHarness({ processingSeconds: 0 });
    const p = await runner();
    // What an interrupted `up` of `clip` left: a video the vendor accepted, in both stores, lease long free.
    const made = await axios.postForm(
        `${h.emulator.url}/v2/video/text-to-video`,
        { prompt: "a lighthouse", style: "kling-1.0-pro" },
        { headers: { Authorization: `Bearer ${TOKEN}` } },
    );
    const id = String(made.data.id);
    const inputs = video("a lighthouse", identity("acme"));
    const entry = {
        key: identity("acme"),
        videoId: id,
        digest: definingDigest(inputs),
        account: accountOf(h.emulator.url, TOKEN),
        state: "accepted" as const,
        at: Date.now() - 3_600_000,
        owner: "elsewhere:1:x",
        leaseUntil: Date.now() - 3_000_000,
    };
    const direct = new Redis(redis.url);
    clients.push(direct);
    await new RedisLedgerStore(direct, 7).put(entry);
    await new FileLedgerStore(path.join(h.dataDir, ".imagine", "ledger.jsonl"), "f", () => undefined).put(entry);

    // The README's advice: adopt it under a new name.
    const adopted = await p.create({ ...video("a lighthouse", identity("acme", "hero")), adoptVideoId: id });
    expect(adopted.id).toBe(id);
    // `clip` again, with other inputs (before: its video was swept as "in no stack") and with the same ones.
    const changed = await p.create({ ...video("another idea", identity("acme")), waitForCompletion: false });
    const same = await p.create({ ...inputs, waitForCompletion: false });
    expect([changed.id, same.id]).not.toContain(id);
    expect(h.logs.join("\n")).not.toMatch(
        new RegExp(`video ${id}: (started by an interrupted|adopted from the ledger)`),
    );
    expect(await vendorHas(id)).toBe(true);
    expect((await p.read(id, adopted.outs)).id).toBe(id);
});

it("a Redis that keeps nothing on disk or evicts keys gets one warning at the ledger's first use; one that persists, none", async () => {
    h = await startHarness({ processingSeconds: 0 });
    const warnings: string[] = [];
    const instance = () =>
        h.handlers(
            { "imagine:redisUrl": redis.url },
            {
                warn: (m) => warnings.push(m),
                redis: (url) => {
                    const c = connectRedis(url, () => undefined);
                    clients.push(c);
                    return c;
                },
            },
        );
    const make = async (p: Awaited<ReturnType<typeof instance>>, prompt: string) =>
        p.create({ ...video(prompt, identity("acme")), waitForCompletion: false });
    await make(await instance(), "a dune");
    expect(warnings.filter((w) => /the Redis of imagine:redisUrl/.test(w))).toEqual([]);

    const admin = new Redis(redis.url);
    clients.push(admin);
    await admin.config("SET", "appendonly", "no");
    await admin.config("SET", "maxmemory-policy", "volatile-lru");
    const p = await instance(); // one provider process: one warning, however many creates
    await make(p, "a reef");
    await make(p, "a glacier");
    await until("the durability warning", () => warnings.some((w) => /the Redis of imagine:redisUrl/.test(w)));
    expect(warnings.filter((w) => /the Redis of imagine:redisUrl/.test(w))).toEqual([
        "the Redis of imagine:redisUrl has no persistence (appendonly no, no RDB saves) and evicts keys (maxmemory-policy volatile-lru): " +
            "the ledger of accepted generations there can be lost (the local ledger file keeps a copy for this machine only). " +
            "Give it persistence (appendonly yes, or RDB saves) and maxmemory-policy noeviction.",
    ]);
});
