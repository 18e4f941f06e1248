/**
 * The ledger of accepted generations on its own: the file store (append-only lines, torn and corrupt
 * lines skipped and reported), the Ledger over two stores (fallback, `handed` wins, account, expiry,
 * videos a create of this process holds), and the digest of the defining inputs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { accountOf, definingDigest, Ledger, LedgerEntry, LedgerKey, LedgerStore } from "../../provider/ledger/ledger";
import { FileLedgerStore } from "../../provider/ledger/ledger-file";

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
        await ledger.handed(KEY, "v1", "sha256:a");
        expect((await ledger.find(KEY)).map((e) => [e.videoId, e.state])).toEqual([["v1", "handed"]]);
        await ledger.remove(KEY, "v1");
        await ledger.remove(KEY, "v1"); // nothing left: no line written
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
        put: async () => Promise.reject(new Error(what)),
        remove: async () => Promise.reject(new Error(what)),
    });

    it("a shared store that is down: entries go to the file, with one warning, and are still found", async () => {
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
        expect(warnings.filter((w) => /falls back to the ledger file/.test(w))).toHaveLength(1);
        expect(warnings.some((w) => /could not be read \(connect ECONNREFUSED\)/.test(w))).toBe(true);
    });

    it("a handed mark in either store wins over accepted in the other", async () => {
        const entries: LedgerEntry[] = [];
        const memory: LedgerStore = {
            description: "memory",
            entries: async (k) => entries.filter((e) => e.key.name === k.name),
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
