/**
 * The provider with `imagine:redisUrl` against a real redis-server and the emulator over HTTP:
 * the token appears in no Redis key or value, and Redis unreachable at start or answering slowly
 * costs one warning line (never the URL's password) while creates and deletes go on; a provider
 * instance holds one Redis client, shared by its budget and its ledger.
 */
import Redis from "ioredis";
import * as net from "net";
import { systemClock } from "../../provider/core/clock";
import { FleetWaits, WAITS_LEASE_MS } from "../../provider/budget/fleet-waits";
import { RedisBucket } from "../../provider/budget/redis-budget";
import { closeSharedRedis, connectRedis, disconnect } from "../../provider/budget/redis-connection";
import { Harness, PROVIDER, startHarness, TOKEN } from "../provider/harness";
import { RunningRedis, startRedisServer } from "../redis-server";

let h: Harness;
let redis: RunningRedis;
beforeAll(async () => {
    h = await startHarness();
    redis = await startRedisServer();
});
afterAll(async () => {
    await closeSharedRedis();
    await h?.stop();
    await redis?.stop();
});

/** Every key and value in the server, as text. */
async function dump(url: string): Promise<{ keys: string[]; text: string }> {
    const c = new Redis(url);
    try {
        const keys = await c.keys("*");
        const parts: string[] = [];
        for (const k of keys) {
            const type = await c.type(k);
            const value =
                type === "string"
                    ? await c.get(k)
                    : type === "hash"
                      ? await c.hgetall(k)
                      : type === "zset"
                        ? await c.zrange(k, 0, -1, "WITHSCORES")
                        : type === "set"
                          ? await c.smembers(k)
                          : type === "list"
                            ? await c.lrange(k, 0, -1)
                            : type;
            parts.push(k, JSON.stringify(value));
        }
        return { keys, text: parts.join("\n") };
    } finally {
        c.disconnect();
    }
}

const create = (p: { create(i: Record<string, unknown>): Promise<{ id: string }> }, i: number) =>
    p.create({ prompt: `redis video ${i}`, style: "kling-1.0-pro", __provider: PROVIDER });

it("keeps the budget, the demand and the waits in Redis under a hash: the token is in no key or value", async () => {
    const warnings: string[] = [];
    const p = await h.handlers({ "imagine:redisUrl": redis.url }, { warn: (m) => warnings.push(m) });
    let created = false;
    const creating = Promise.all([0, 1, 2].map((i) => create(p, i))).finally(() => (created = true));
    // While the three generations are waited for, the fleet's count of waits is in Redis too.
    let during = await dump(redis.url);
    while (!created && !during.keys.some((k) => k.endsWith(":waits"))) {
        await new Promise((r) => setTimeout(r, 20));
        during = await dump(redis.url);
    }
    const ids = (await creating).map((r) => r.id);
    await Promise.all(ids.map((id) => p.delete(id, { videoId: id })));
    const after = await dump(redis.url);
    expect(warnings).toEqual([]);
    const names = [...during.keys, ...after.keys];
    expect(names.some((k) => /^imagine-video:budget:\{[0-9a-f]{32}\}:bucket$/.test(k))).toBe(true);
    expect(names.some((k) => k.endsWith(":waits"))).toBe(true);
    for (const text of [during.text, after.text]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(TOKEN.slice(3, 20));
    }
    // Every key expires when idle.
    const c = new Redis(redis.url);
    try {
        for (const k of after.keys) expect(await c.pttl(k)).toBeGreaterThan(0);
    } finally {
        c.disconnect();
    }
});

it("with Redis unreachable from the start: one warning without the password, and the videos are made and deleted", async () => {
    const port = await closedPort();
    const url = `redis://:pw-SECRET-canary-77@127.0.0.1:${port}/0`;
    const warnings: string[] = [];
    const logs: string[] = [];
    const p = await h.handlers(
        { "imagine:redisUrl": url },
        { warn: (m) => warnings.push(m), log: (m) => logs.push(m) },
    );
    const ids = (await Promise.all([0, 1].map((i) => create(p, i)))).map((r) => r.id);
    await Promise.all(ids.map((id) => p.delete(id, { videoId: id })));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
        new RegExp(
            `^Redis at redis://127\\.0\\.0\\.1:${port}/0 is unreachable \\(ECONNREFUSED\\); going on without it`,
        ),
    );
    expect([...warnings, ...logs].join("\n")).not.toContain("pw-SECRET-canary-77");
    expect((await h.emulator.stats()).videosStored).toBe(0);
});

it("with Redis answering slowly (suspended): one warning, deletes go on at once on the local budget, and it rejoins", async () => {
    const warnings: string[] = [];
    // A URL of its own (database 1): a client of its own, connected before Redis stops answering.
    const p = await h.handlers({ "imagine:redisUrl": `${redis.url}/1` }, { warn: (m) => warnings.push(m) });
    const ids = (await Promise.all([0, 1, 2, 3].map((i) => create(p, i)))).map((r) => r.id);
    redis.freeze();
    let seconds = 0;
    try {
        const start = Date.now();
        await Promise.all(ids.slice(0, 3).map((id) => p.delete(id, { videoId: id })));
        seconds = (Date.now() - start) / 1000;
    } finally {
        redis.thaw();
    }
    expect(warnings).toEqual([
        `Redis at redis://127.0.0.1:${redis.port}/1 did not answer within its command timeout; this process uses its own request budget until it does.`,
    ]);
    // One command timeout (1 s), not one per delete.
    expect(seconds).toBeLessThan(5);
    // Redis is tried again a little later (2 s, doubling while it fails), and answers.
    const end = Date.now() + 15_000;
    while (warnings.length < 2 && Date.now() < end) {
        await p.read(ids[3], { videoId: ids[3] });
        await new Promise((r) => setTimeout(r, 250));
    }
    await p.delete(ids[3], { videoId: ids[3] });
    expect(warnings[1]).toBe(
        `Redis at redis://127.0.0.1:${redis.port}/1 answers in time again: back on the shared request budget.`,
    );
    expect((await h.emulator.stats()).videosStored).toBe(0);
});

it("counts the videos waited for across processes; the count of a process that stops renewing it expires", async () => {
    const clients = [connectRedis(redis.url, () => undefined), connectRedis(redis.url, () => undefined)];
    try {
        const [a, b] = clients.map(
            (redisClient) =>
                new RedisBucket({
                    redis: redisClient,
                    token: TOKEN,
                    requestsPerMinute: 77,
                    warn: () => undefined,
                    where: "test",
                }),
        );
        const waitsA = new FleetWaits(systemClock, (n, now, lease) => a.syncWaits(n, now, lease));
        const waitsB = new FleetWaits(systemClock, (n, now, lease) => b.syncWaits(n, now, lease));
        // As polling does it: ++ when a wait starts, -- when it ends.
        for (let i = 0; i < 3; i++) waitsA.inFlight++;
        await new Promise((r) => setTimeout(r, 300));
        waitsB.inFlight++;
        await new Promise((r) => setTimeout(r, 300));
        expect(waitsB.localInFlight).toBe(1);
        expect(waitsB.inFlight).toBe(4);
        waitsB.inFlight--;
        expect(waitsB.localInFlight).toBe(0);
        // Past A's lease (A killed, say), its three waits no longer count.
        expect(await b.syncWaits(0, Date.now() + WAITS_LEASE_MS + 1, WAITS_LEASE_MS)).toBe(0);
        for (let i = 0; i < 3; i++) waitsA.inFlight--;
    } finally {
        await Promise.all(clients.map(disconnect));
    }
});

it("across processes, status checks wait while any process has creates or deletes waiting", async () => {
    const clients = [connectRedis(redis.url, () => undefined), connectRedis(redis.url, () => undefined)];
    try {
        // 60 a minute: one a second or so, a bucket of one. Two processes, one clock.
        const [a, b] = clients.map(
            (redisClient) =>
                new RedisBucket({
                    redis: redisClient,
                    token: TOKEN,
                    requestsPerMinute: 60,
                    warn: () => undefined,
                    where: "test",
                }),
        );
        const t = 5_000_000;
        expect(await a.take("high", t, true)).toBe(0); // A deletes, with more deletes waiting
        // 1.5 s later the bucket holds a request again, but A's deletes come first: B's status check waits.
        expect(await b.take("low", t + 1500, false)).toBeGreaterThan(0);
        expect(await a.take("high", t + 1500, false)).toBe(0); // A's last delete: its demand ends
        expect(await b.take("low", t + 1500 + 1100, false)).toBe(0);
        // Without demand, a refused request pauses everyone for its Retry-After.
        b.throttled(t + 3000, 2000);
        await new Promise((r) => setTimeout(r, 100));
        expect(await a.take("high", t + 3500, false)).toBe(1500);
    } finally {
        await Promise.all(clients.map(disconnect));
    }
});

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
    return new Promise((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = s.address() as net.AddressInfo;
            s.close(() => resolve(port));
        });
    });
}

it("one Redis client per provider instance: the budget and the ledger share it, and a change of settings keeps it", async () => {
    const asked: string[] = [];
    const clients: Redis[] = [];
    const url = `${redis.url}/2`;
    const p = await h.handlers(
        { "imagine:redisUrl": url },
        {
            redis: (u, warn) => {
                asked.push(u);
                const c = connectRedis(u, warn);
                clients.push(c);
                return c;
            },
        },
    );
    try {
        const identity = { project: "shop", stack: "pr-19", name: "one-client" };
        const { id, outs } = await p.create({
            prompt: "one client",
            style: "kling-1.0-pro",
            identity,
            __provider: PROVIDER,
        });
        await p.read(id, outs);
        // Other settings, the same Redis URL: the provider rebuilds its client for the API, not for Redis.
        const changed: Record<string, string> = {
            "imagine:apiToken": TOKEN,
            "imagine:baseUrl": h.emulator.url,
            "imagine:redisUrl": url,
            "imagine:requestsPerMinute": "60000",
            "imagine:minPollSeconds": "0.05",
            "imagine:maxPollSeconds": "0.3",
            "imagine:deleteTimeoutMinutes": "0.5",
        };
        await p.configure({ config: { get: (k: string) => changed[k] } });
        await p.delete(id, outs);
        expect(asked).toEqual([url]);
        expect(clients).toHaveLength(1);
    } finally {
        await Promise.all(clients.map(disconnect));
    }
});
