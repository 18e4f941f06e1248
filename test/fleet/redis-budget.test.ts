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
import { budgetKeyPrefix, RedisBucket } from "../../provider/budget/redis-budget";
import { closeSharedRedis, connectRedis, disconnect, whenReady } from "../../provider/budget/redis-connection";
import { RedisLedgerStore } from "../../provider/ledger/ledger-redis";
import { until } from "../until";
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

const bucket = (redisClient: Redis, requestsPerMinute: number, speed = 1) =>
    new RedisBucket({
        redis: redisClient,
        token: TOKEN,
        requestsPerMinute,
        warn: () => undefined,
        where: "test",
        speed,
    });

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

it("a client whose Redis is unreachable: neither a failed command nor the disconnect leaves a timer holding the process", async () => {
    const client = connectRedis(`redis://127.0.0.1:${await closedPort()}`, () => undefined);
    await until("the client between reconnection attempts", () => client.status === "reconnecting");
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    // Counted around steps that run no timer callback in between (synchronous code and promise callbacks).
    const idle = timers();
    // Refused at once (no offline queue): its command timeout goes with it.
    await expect(client.get("k")).rejects.toThrow(/isn't writeable/);
    expect(timers()).toBe(idle);
    const closing = disconnect(client);
    const after = timers();
    await closing;
    // Its reconnection timer is cleared, and no timer for the socket that closed long ago takes its place.
    expect(after).toBe(idle - 1);
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
    const clients = [0, 1, 2].map(() => connectRedis(redis.url, () => undefined));
    try {
        const [a, b, c] = clients.map((redisClient) => bucket(redisClient, 77));
        const waitsA = new FleetWaits(systemClock, (n, lease) => a.syncWaits(n, lease));
        const waitsB = new FleetWaits(systemClock, (n, lease) => b.syncWaits(n, lease));
        // As polling does it: ++ when a wait starts, -- when it ends.
        for (let i = 0; i < 3; i++) waitsA.inFlight++;
        await until("A's three waits in Redis", async () => (await c.syncWaits(0, WAITS_LEASE_MS)) === 3);
        waitsB.inFlight++;
        await until("B hears of A's waits", () => waitsB.inFlight === 4);
        expect(waitsB.localInFlight).toBe(1);
        waitsB.inFlight--;
        expect(waitsB.localInFlight).toBe(0);
        for (let i = 0; i < 3; i++) waitsA.inFlight--;
        await until("A's waits ended", async () => (await c.syncWaits(0, WAITS_LEASE_MS)) === 0);
        // A process that stops renewing (killed, say): its count goes once its lease runs out, on Redis's clock.
        expect(await c.syncWaits(5, 100)).toBe(5);
        await until("C's lease ran out", async () => (await b.syncWaits(0, WAITS_LEASE_MS)) === 0);
    } finally {
        await Promise.all(clients.map(disconnect));
    }
});

it("across processes, status reads get one grant in four while another process's deletes wait; a 429 pauses everyone", async () => {
    const clients = [connectRedis(`${redis.url}/3`, () => undefined), connectRedis(`${redis.url}/3`, () => undefined)];
    try {
        // 60 a minute, run 10 times faster (a token every 105 ms, room for a loaded machine's stalls): A has 40
        // deletes waiting, B 10 status reads.
        const [a, b] = clients.map((redisClient) => bucket(redisClient, 60, 10));
        const order: string[] = [];
        const drain = async (name: string, waiting: { high: number; low: number }) => {
            while (waiting.high + waiting.low > 0) {
                const taken = await (name === "A" ? a : b).take(waiting);
                if (taken === undefined) throw new Error("Redis did not answer");
                if (taken.grant) {
                    waiting[taken.grant]--;
                    order.push(`${name}:${taken.grant}`);
                } else {
                    await new Promise((r) => setTimeout(r, Math.max(1, taken.waitMs / 10)));
                }
            }
        };
        await Promise.all([drain("A", { high: 40, low: 0 }), drain("B", { high: 0, low: 10 })]);
        // While A's deletes waited, B's reads were not held back to the end: at least one grant in five.
        const beforeLastRead = order.slice(0, order.lastIndexOf("B:low") + 1);
        expect(beforeLastRead.filter((g) => g === "B:low")).toHaveLength(10);
        expect(beforeLastRead.length).toBeLessThanOrEqual(10 * 5);
        // Deletes first: while both wait, more deletes than reads are granted (one read in four when on time;
        // a process late to ask for its turn may lose it, so the exact order is not asserted).
        expect(beforeLastRead.filter((g) => g === "A:high").length).toBeGreaterThanOrEqual(10);
        // A refused request pauses the fleet for its Retry-After, on Redis's clock (2 s at speed 10: 200 ms).
        b.throttled(2000);
        await until("the pause reached Redis", async () => {
            const taken = await a.take({ high: 1, low: 0 });
            return taken?.grant === undefined && (taken?.waitMs ?? 0) > 1000;
        });
    } finally {
        await Promise.all(clients.map(disconnect));
    }
});

it("one bucket per API key whatever the rate: the lowest rate of a live process is in force, the difference said once", async () => {
    const url = `${redis.url}/4`;
    const clients = [connectRedis(url, () => undefined), connectRedis(url, () => undefined)];
    const warned: string[][] = [[], []];
    try {
        const [at40, at50] = clients.map(
            (redisClient, i) =>
                new RedisBucket({
                    redis: redisClient,
                    token: TOKEN,
                    requestsPerMinute: [40, 50][i],
                    warn: (m) => warned[i].push(m),
                    where: "test",
                }),
        );
        await at40.take({ high: 1, low: 0 });
        for (let i = 0; i < 3; i++) await at50.take({ high: 1, low: 0 });
        expect(warned[0]).toEqual([]);
        expect(warned[1]).toHaveLength(1);
        expect(warned[1][0]).toMatch(/imagine:requestsPerMinute is 50 here, but another process .* configured 40/);
        const { keys, text } = await dump(url);
        expect(keys.filter((k) => k.endsWith(":bucket"))).toEqual([`${budgetKeyPrefix(TOKEN)}:bucket`]);
        expect(text).not.toContain(TOKEN.slice(3, 20));
    } finally {
        await Promise.all(clients.map(disconnect));
    }
});

it("watches a connection once: 2,000 calls waiting for it add no listener each", async () => {
    const emitted: string[] = [];
    const onWarning = (w: Error) => emitted.push(w.name);
    process.on("warning", onWarning);
    const client = connectRedis(`${redis.url}/5`, () => undefined);
    try {
        const before = client.listenerCount("ready") + client.listenerCount("close");
        const waits = Array.from({ length: 2000 }, () => whenReady(client, 5000));
        const ledger = new RedisLedgerStore(client, 1);
        const key = { project: "p", stack: "s", name: "n" };
        const ledgerWaits = Array.from({ length: 20 }, () => ledger.remove(key, "v"));
        expect(client.listenerCount("ready") + client.listenerCount("close")).toBeLessThanOrEqual(before + 2);
        expect((await Promise.all(waits)).every((r) => r)).toBe(true);
        await Promise.all(ledgerWaits);
        expect(emitted).not.toContain("MaxListenersExceededWarning");
    } finally {
        process.off("warning", onWarning);
        await disconnect(client);
    }
});

it("a Redis user without @scripting: one warning with Redis's reply, and the videos are made and deleted", async () => {
    const admin = new Redis(redis.url);
    await admin.acl("SETUSER", "noscript", "on", ">noscript-pw", "~*", "&*", "+@all", "-@scripting");
    admin.disconnect();
    const warnings: string[] = [];
    const p = await h.handlers(
        { "imagine:redisUrl": `redis://noscript:noscript-pw@127.0.0.1:${redis.port}/6` },
        { warn: (m) => warnings.push(m) },
    );
    const ids = (await Promise.all([0, 1, 2].map((i) => create(p, i)))).map((r) => r.id);
    await Promise.all(ids.map((id) => p.delete(id, { videoId: id })));
    const refused = warnings.filter((w) => /refused the request budget's script/.test(w));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/"NOPERM [^"]*"/);
    expect(refused[0]).toContain("the fleet budget is not in force; using this process's own budget");
    expect(warnings.join("\n")).not.toContain("noscript-pw");
    expect((await h.emulator.stats()).videosStored).toBe(0);
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
