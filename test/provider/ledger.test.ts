/**
 * The ledger of accepted generations on its own: the file store (append-only lines, torn and corrupt
 * lines skipped and reported), the Ledger over two stores (fallback, `handed` wins, account, expiry,
 * videos a create of this process holds), and the digest of the defining inputs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { until } from "../until";
import { spawnSync } from "child_process";
import { accountOf, definingDigest, Ledger, LedgerEntry, LedgerKey, LedgerStore } from "../../provider/ledger/ledger";
import { FileLedgerStore } from "../../provider/ledger/ledger-file";
import { ownerId } from "../../provider/ledger/lease";

const KEY: LedgerKey = { project: "p", stack: "dev", name: "intro" };
const OTHER: LedgerKey = { project: "p", stack: "dev", name: "outro" };
const ACCOUNT = accountOf("https://api.vyro.ai", "vk-secret-token-value");

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ledger-unit-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function fileLedger(warnings: string[], now = () => Date.now(), inFlight = new Set<string>()) {
    const file = path.join(dir, ".imagine", "ledger.jsonl");
    const local = new FileLedgerStore(file, ".imagine/ledger.jsonl", (m) => warnings.push(m));
    return {
        file,
        local,
        ledger: new Ledger({ local, account: ACCOUNT, days: 7, warn: (m) => warnings.push(m), inFlight, now }),
    };
}

describe("the file store", () => {
    it("records, marks handed and removes; other resources' entries are untouched", async () => {
        const warnings: string[] = [];
        const { file, ledger } = fileLedger(warnings);
        await ledger.accepted(KEY, "v1", "sha256:a");
        await ledger.accepted(OTHER, "v2", "sha256:b");
        expect((await ledger.find(KEY)).map((e) => e.videoId)).toEqual([]); // held by a create of this process
        await ledger.handed("v1", { key: KEY, digest: "sha256:a" });
        expect((await ledger.find(KEY)).map((e) => [e.videoId, e.state])).toEqual([["v1", "handed"]]);
        await ledger.shown("v1");
        await ledger.shown("v1"); // nothing left: no line written
        expect(await ledger.find(KEY)).toEqual([]);
        const lines = fs.readFileSync(file, "utf8").trim().split("\n");
        expect(lines.map((l) => JSON.parse(l).op)).toEqual(["put", "put", "put", "remove"]);
        expect(fs.readFileSync(file, "utf8")).not.toMatch(/vk-secret|https?:/);
        expect(warnings).toEqual([]);
    });

    it("a torn last line is skipped and reported, and the next entry is written whole after it", async () => {
        const warnings: string[] = [];
        const { file, ledger } = fileLedger(warnings);
        await ledger.accepted(KEY, "v1", "sha256:a");
        fs.appendFileSync(file, '{"op":"put","key":{"pro');
        ledger.release("v1");
        expect((await ledger.find(KEY)).map((e) => e.videoId)).toEqual(["v1"]);
        expect(warnings).toEqual([
            "the ledger file .imagine/ledger.jsonl: line 2 is not a ledger entry (cut short, as by a crash mid-write); it is skipped",
        ]);
        await ledger.accepted(OTHER, "v2", "sha256:b");
        ledger.release("v2");
        expect((await ledger.find(OTHER)).map((e) => e.videoId)).toEqual(["v2"]);
        expect((await ledger.find(KEY)).map((e) => e.videoId)).toEqual(["v1"]);
        expect(warnings.filter((w) => w.includes("corrupt"))).toEqual([
            "the ledger file .imagine/ledger.jsonl: line 2 is not a ledger entry (corrupt); it is skipped",
        ]);
    });

    it("entries of another API key or endpoint, and entries past imagine:ledgerDays, are not found", async () => {
        const warnings: string[] = [];
        let now = Date.now();
        const { local, ledger } = fileLedger(warnings, () => now);
        await local.put({
            key: KEY,
            videoId: "theirs",
            digest: "sha256:a",
            account: accountOf("https://api.vyro.ai", "vk-other"),
            state: "accepted",
            at: now,
        });
        await local.put({
            key: KEY,
            videoId: "ours",
            digest: "sha256:a",
            account: ACCOUNT,
            state: "accepted",
            at: now,
        });
        expect((await ledger.find(KEY)).map((e) => e.videoId)).toEqual(["ours"]);
        now += 8 * 86_400_000;
        expect(await ledger.find(KEY)).toEqual([]);
    });
});

describe("the Ledger over a shared store and the file", () => {
    const failing = (what: string): LedgerStore => ({
        description: "Redis (imagine:redisUrl)",
        entries: async () => Promise.reject(new Error(what)),
        byId: async () => Promise.reject(new Error(what)),
        put: async () => Promise.reject(new Error(what)),
        remove: async () => Promise.reject(new Error(what)),
    });

    it("a shared store that is down: entries are in the file (written there always), with one warning, and are still found", async () => {
        const warnings: string[] = [];
        const { local } = fileLedger(warnings);
        const ledger = new Ledger({
            shared: failing("connect ECONNREFUSED"),
            local,
            account: ACCOUNT,
            days: 7,
            warn: (m) => warnings.push(m),
            inFlight: new Set(),
        });
        await ledger.accepted(KEY, "v1", "sha256:a");
        await ledger.accepted(KEY, "v2", "sha256:a");
        ledger.release("v1");
        ledger.release("v2");
        expect((await ledger.find(KEY)).map((e) => e.videoId).sort()).toEqual(["v1", "v2"]);
        expect(
            warnings.filter((w) => /is unavailable .* kept in the ledger file .* only for now/.test(w)),
        ).toHaveLength(1);
        expect(warnings.some((w) => /could not be read \(connect ECONNREFUSED\)/.test(w))).toBe(true);
    });

    it("a handed mark in either store wins over accepted in the other", async () => {
        const entries: LedgerEntry[] = [];
        const memory: LedgerStore = {
            description: "memory",
            entries: async (k) => entries.filter((e) => e.key.name === k.name),
            byId: async (id) => entries.filter((e) => e.videoId === id),
            put: async (e) => void entries.push(e),
            remove: async () => undefined,
        };
        const warnings: string[] = [];
        const { local } = fileLedger(warnings);
        const ledger = new Ledger({
            shared: memory,
            local,
            account: ACCOUNT,
            days: 7,
            warn: (m) => warnings.push(m),
            inFlight: new Set(),
        });
        await local.put({
            key: KEY,
            videoId: "v1",
            digest: "sha256:a",
            account: ACCOUNT,
            state: "handed",
            at: Date.now(),
        });
        await memory.put({
            key: KEY,
            videoId: "v1",
            digest: "sha256:a",
            account: ACCOUNT,
            state: "accepted",
            at: Date.now(),
        });
        expect((await ledger.find(KEY)).map((e) => e.state)).toEqual(["handed"]);
    });

    it("a ledger file that cannot be written or read is reported, never thrown", async () => {
        const warnings: string[] = [];
        fs.mkdirSync(path.join(dir, ".imagine", "ledger.jsonl"), { recursive: true });
        const { ledger } = fileLedger(warnings);
        await expect(ledger.accepted(KEY, "v1", "sha256:a")).resolves.toBeUndefined();
        await expect(ledger.find(KEY)).resolves.toEqual([]);
        await expect(ledger.remove(KEY, "v1")).resolves.toBeUndefined();
        expect(warnings.join("\n")).toMatch(/could not be written \(EISDIR\)/);
        expect(warnings.join("\n")).toMatch(/could not be read \(EISDIR\)/);
    });
});

describe("a ledger that stays fast (20,000 past videos)", () => {
    /** What a year of `up`s left in a ledger file that never compacted: accepted, handed, removed, per video. */
    function pastLedger(file: string, n: number): void {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const lines: string[] = [];
        const at = Date.now() - 3_600_000;
        for (let i = 0; i < n; i++) {
            const key = { project: "p", stack: "dev", name: `video-${i}` };
            const entry = { key, videoId: `past-${i}`, digest: "sha256:x", account: ACCOUNT, at };
            lines.push(JSON.stringify({ op: "put", ...entry, state: "accepted" }));
            lines.push(JSON.stringify({ op: "put", ...entry, state: "handed" }));
            lines.push(JSON.stringify({ op: "remove", key, videoId: `past-${i}`, at }));
        }
        fs.writeFileSync(file, lines.join("\n") + "\n");
    }

    it("compacts itself to the live entries, answers an id it does not hold without I/O, and other processes follow the new file", async () => {
        const warnings: string[] = [];
        const { file, local, ledger } = fileLedger(warnings);
        pastLedger(file, 20_000);
        const before = fs.statSync(file).size;
        expect(before).toBeGreaterThan(5_000_000);
        // Another process's view of the same file, read before the compaction.
        const other = new FileLedgerStore(file, "other", (m) => warnings.push(m));
        expect(await other.entries(KEY)).toEqual([]);

        await ledger.accepted(KEY, "live-1", "sha256:a"); // a write: the file compacts (dead lines outnumber live)
        await ledger.handed("live-1", { key: KEY, digest: "sha256:a" });
        await until("the compaction", () => fs.statSync(file).size < 10_000);
        const lines = fs.readFileSync(file, "utf8").trim().split("\n");
        expect(lines.length).toBeLessThanOrEqual(2);
        expect(lines.every((l) => JSON.parse(l).videoId === "live-1")).toBe(true);
        expect(fs.existsSync(`${file}.lock`)).toBe(false);
        expect(local.counts().live).toBe(1);

        // The engine shows ids the ledger does not hold (every diff of a stack of 20,000 videos): no file I/O.
        const spies = (["stat", "open", "readFile", "appendFile"] as const).map((f) => jest.spyOn(fs.promises, f));
        try {
            for (let i = 0; i < 200; i++) await ledger.shown(`past-${i}`);
            expect(spies.reduce((n, s) => n + s.mock.calls.length, 0)).toBe(0);
        } finally {
            spies.forEach((s) => s.mockRestore());
        }
        // The other process sees the new file (another inode), not a mix of both.
        expect((await other.entries(KEY)).map((e) => [e.videoId, e.state])).toEqual([["live-1", "handed"]]);
        await ledger.shown("live-1");
        expect(await ledger.find(KEY)).toEqual([]);
        expect(warnings).toEqual([]);
    });
});

describe("owned entries", () => {
    it("an entry another live process owns is not found until its lease runs out; one owned by a process that is gone is found at once", async () => {
        let now = Date.now();
        const warnings: string[] = [];
        const file = path.join(dir, "ledger.jsonl");
        const store = () => new FileLedgerStore(file, "ledger.jsonl", (m) => warnings.push(m));
        const runner = (name: string) =>
            new Ledger({
                local: store(),
                account: ACCOUNT,
                days: 7,
                warn: (m) => warnings.push(m),
                inFlight: new Set(),
                now: () => now,
                owner: ownerId(name),
            });
        const alice = runner("alice");
        const bob = runner("bob");
        await alice.accepted(KEY, "a1", "sha256:a");
        expect(await bob.find(KEY)).toEqual([]); // Alice's create is waiting for it
        now += 30_000;
        await alice.renew(KEY, "a1", "sha256:a");
        now += 45_000; // 45 s after the renewal: still held
        expect(await bob.find(KEY)).toEqual([]);
        now += 30_000; // the lease ran out: Alice's create is gone
        expect((await bob.find(KEY)).map((e) => e.videoId)).toEqual(["a1"]);

        // A process of this machine that no longer runs holds nothing.
        const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
        const [host] = ownerId().split(":");
        await store().put({
            key: OTHER,
            videoId: "d1",
            digest: "sha256:d",
            account: ACCOUNT,
            state: "accepted",
            at: now,
            owner: `${host}:${gone}:x`,
            leaseUntil: now + 60_000,
        });
        expect((await bob.find(OTHER)).map((e) => e.videoId)).toEqual(["d1"]);
        expect(warnings).toEqual([]);
    });
});

describe("definingDigest", () => {
    it("depends on what defines the video only, not on the order of extraParams", () => {
        const a = definingDigest({
            prompt: "x",
            style: "s",
            extraParams: { a: "1", b: "2" },
            timeoutMinutes: 5,
            identity: KEY,
        });
        expect(definingDigest({ prompt: "x", style: "s", extraParams: { b: "2", a: "1" } })).toBe(a);
        expect(definingDigest({ prompt: "y", style: "s", extraParams: { a: "1", b: "2" } })).not.toBe(a);
        expect(
            definingDigest({ prompt: "x", style: "s", extraParams: { a: "1", b: "2" }, imageDigest: "sha256:f" }),
        ).not.toBe(a);
        expect(
            definingDigest({ prompt: "x", style: "s", aspectRatio: "16:9", extraParams: { a: "1", b: "2" } }),
        ).not.toBe(a);
    });
});
