/**
 * Secret scan: a whole lifecycle through the engine stand-in with a canary API key, then a search for
 * the key and for signed result URLs in everything a user, a CI log or a state backend would keep:
 * every version of the checkpoint file, the serialized providers in it, the stdout and stderr of every
 * process, diagnostics, error messages (a wrong key, an echoing proxy page, failed videos) and the
 * deletion receipts (imagine:deletionLog).
 */
import { createHash, randomInt } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "imagine-api-emulator";
import { OperationResult, SECRET_SIG, SPECIAL_SIG_KEY } from "../engine";
import { expectOk, FIXTURE, VideoStack } from "../lifecycle/stack-harness";

jest.setTimeout(420_000);

const letters = (n: number) =>
    Array.from({ length: n }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[randomInt(52)]).join("");
const CANARY = `vk-CANARY${letters(32)}`;
const WRONG = `vk-WRONGCANARY${letters(28)}`;
/** Another valid key of the same emulator (key rotation): it cannot see the canary's videos. */
const OTHER = `vk-OTHERCANARY${letters(28)}`;
const PNG = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
    "hex",
);

/** Paths of strings containing `needle` that are not inside a secret (in a decrypted checkpoint). */
function plainOccurrences(v: unknown, needle: string, at = "$", inSecret = false, out: string[] = []): string[] {
    if (typeof v === "string") {
        if (v.includes(needle) && !inSecret) out.push(at);
    } else if (Array.isArray(v)) {
        v.forEach((x, i) => plainOccurrences(x, needle, `${at}[${i}]`, inSecret, out));
    } else if (v && typeof v === "object") {
        const secret = (v as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG;
        for (const [k, x] of Object.entries(v)) plainOccurrences(x, needle, `${at}.${k}`, inSecret || secret, out);
    }
    return out;
}

let dir: string;
let s: VideoStack;
let stopEmulator: () => Promise<void>;
/** A proxy error page that echoes the request, Authorization header included (502). */
let echo: http.Server;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-secrets-"));
    const emulator = await startEmulator({
        dataDir: path.join(dir, "emulator"),
        tokens: [CANARY, OTHER],
        processingSeconds: 720,
        clockSpeed: 1440,
    });
    echo = http.createServer((req, res) => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end(
            `<html><body><h1>502 Bad Gateway</h1><pre>${req.method} ${req.url}\nAuthorization: ${req.headers.authorization}</pre></body></html>`,
        );
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    stopEmulator = () => emulator.stop();
    s = new VideoStack(emulator, dir, FIXTURE, {});
    s.stack.setConfig("imagine:apiToken", { value: CANARY, secret: true });
    s.stack.setConfig("imagine:deletionLog", { value: path.join(dir, "deletions.jsonl") });
    fs.writeFileSync(path.join(dir, "still.png"), PNG);
});
afterAll(async () => {
    echo?.close();
    await stopEmulator?.();
    fs.rmSync(dir, { recursive: true, force: true });
});

it("no token and no plain signed URL in checkpoints, providers, process output, diagnostics, errors or receipts", async () => {
    const statePath = path.join(dir, "state.json");
    // Every version of the checkpoint file: read after each operation, and sampled while it runs.
    const versions = new Set<string>();
    const sample = () => {
        try {
            versions.add(fs.readFileSync(statePath, "utf8"));
        } catch {
            /* not written yet, or mid-rename */
        }
    };
    const poller = setInterval(sample, 15);
    const results: { op: string; r: OperationResult }[] = [];
    const decrypted: unknown[] = [];
    const run = async (op: string, f: () => Promise<OperationResult>) => {
        const r = await f();
        results.push({ op, r });
        sample();
        decrypted.push(s.stack.decryptedState());
        return r;
    };

    try {
        const text = { name: "text", prompt: "A harbour at dawn", style: "kling-1.0-pro" };
        const image = {
            name: "image",
            prompt: "Make it move",
            style: "kling-1.0-pro",
            imagePath: path.join(dir, "still.png"),
        };
        s.setVideos([text, image]);
        const up = expectOk(await run("up", () => s.stack.up()));
        expect(up.outputs.textStatus.value).toBe("finished");
        expect(up.outputs.textUrl.secret).toBe(true);

        // Each video records the fingerprint of its key, never the key (a refresh keeps it: checked below).
        const fingerprint = createHash("sha256").update(CANARY).digest("hex").slice(0, 12);
        expect(s.videos().map((v) => v.outputs.keyFingerprint)).toEqual([fingerprint, fingerprint]);

        // Key rotation: another valid key sees 404s; refresh keeps the videos, destroy fails and keeps them.
        s.stack.setConfig("imagine:apiToken", { value: OTHER, secret: true });
        expectOk(await run("refresh with another valid key", () => s.stack.refresh()));
        expect(s.videos()).toHaveLength(2);
        const rotated = await run("destroy with another valid key", () => s.stack.destroy());
        expect(rotated.ok).toBe(false);
        expect(rotated.errors.join("\n")).toContain(`fingerprint ${fingerprint}`);
        expect(s.videos()).toHaveLength(2);

        // A proxy page that echoes the request headers: the message quotes it, without the key.
        s.stack.setConfig("imagine:apiToken", { value: CANARY, secret: true });
        s.stack.setConfig("imagine:baseUrl", { value: `http://127.0.0.1:${(echo.address() as net.AddressInfo).port}` });
        s.setVideos([text, image, { name: "echoed", prompt: "Through an echoing proxy", style: "fast-svd" }]);
        const echoed = await run("up against a proxy page that echoes the request headers", () => s.stack.up());
        expect(echoed.ok).toBe(false);
        expect(echoed.errors.join("\n")).toContain("Bearer [redacted]");
        s.stack.setConfig("imagine:baseUrl", { value: s.emulator.url });

        s.stack.setConfig("imagine:apiToken", { value: WRONG, secret: true });
        s.setVideos([text, image, { name: "third", prompt: "A third one", style: "fast-svd" }]);
        const wrong = await run("up with a wrong token", () => s.stack.up());
        expect(wrong.ok).toBe(false);
        expect(wrong.errors.join("\n")).toContain("imagine:apiToken");

        s.stack.setConfig("imagine:apiToken", { value: CANARY, secret: true });
        s.emulator.configure({ failPromptContains: "[reject]" });
        s.setVideos([text, image, { name: "bad", prompt: "A scene [reject]", style: "fast-svd" }]);
        // With --refresh: the Read of each video with the right key (signed URLs in its answer) runs first.
        const failed = await run("up --refresh with a failing generation", () => s.stack.up({ refresh: true }));
        expect(failed.ok).toBe(false);
        expect(failed.errors.join("\n")).toContain("the generation failed");
        expect(
            failed.steps
                .filter((x) => x.op === "refresh")
                .map((x) => x.name)
                .sort(),
        ).toEqual(["image", "text"]);
        expect(
            s
                .videos()
                .filter((v) => ["text", "image"].some((n) => v.urn.endsWith(`::${n}`)))
                .map((v) => v.outputs.keyFingerprint),
        ).toEqual([fingerprint, fingerprint]);

        expectOk(await run("destroy", () => s.stack.destroy()));
        expect((await s.emulator.stats()).videosStored).toBe(0);
    } finally {
        clearInterval(poller);
    }

    // What was collected, so a vacuous pass is impossible.
    expect(versions.size).toBeGreaterThanOrEqual(5);
    const providers = decrypted.flatMap((cp) =>
        (
            cp as { deployment: { resources: { inputs: Record<string, unknown>; outputs: Record<string, unknown> }[] } }
        ).deployment.resources.flatMap((r) =>
            [r.inputs?.__provider, r.outputs?.__provider].filter((p): p is string => typeof p === "string"),
        ),
    );
    expect(providers.length).toBeGreaterThan(0);
    const logs = results.map(({ op, r }) => ({
        op,
        text: [r.stdout, r.stderr, ...r.diagnostics.map((d) => `${d.severity}: ${d.message}`), ...r.errors].join("\n"),
    }));
    expect(logs.map((l) => l.text).join("")).toMatch(/video [\w-]+: (generation started|finished|deleted)/);

    for (const secret of [CANARY, WRONG, OTHER, CANARY.slice(0, 12), OTHER.slice(0, 14)]) {
        for (const v of versions) expect(v).not.toContain(secret);
        for (const cp of decrypted) expect(JSON.stringify(cp)).not.toContain(secret);
        for (const p of providers) expect(p).not.toContain(secret);
        for (const l of logs) expect({ op: l.op, leaks: l.text.includes(secret) }).toEqual({ op: l.op, leaks: false });
    }
    // The deletion receipts: one JSON line per deleted video (text, image, bad), no key, no link.
    const receipts = fs.readFileSync(path.join(dir, "deletions.jsonl"), "utf8");
    const lines = receipts
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((r) => r.name).sort()).toEqual(["bad", "image", "text"]);
    for (const secret of [CANARY, WRONG, "signature=", "://"])
        expect({ secret, inReceipts: receipts.includes(secret) }).toEqual({ secret, inReceipts: false });

    // Nor does the emulator keep the key in its data folder (it stores SHA-256 hashes only).
    for (const f of fs.readdirSync(path.join(dir, "emulator"), { recursive: true }) as string[]) {
        const full = path.join(dir, "emulator", f);
        if (fs.statSync(full).isFile()) expect(fs.readFileSync(full).includes(CANARY)).toBe(false);
    }

    // Signed URLs: never in output or errors; in the checkpoint only as encrypted secrets.
    for (const l of logs)
        expect({ op: l.op, signed: l.text.includes("signature=") }).toEqual({ op: l.op, signed: false });
    for (const v of versions) expect(v).not.toContain("signature=");
    const withUrls = decrypted.filter((cp) => JSON.stringify(cp).includes("signature="));
    expect(withUrls.length).toBeGreaterThan(0); // the URLs are there, decrypted...
    for (const cp of decrypted) expect(plainOccurrences(cp, "signature=")).toEqual([]); // ...and only inside secrets
});
