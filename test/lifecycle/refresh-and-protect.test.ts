/**
 * Through the engine stand-in (real program host, real provider host) against the emulator: a refresh
 * of unchanged videos reports no change (stored signed links are kept while valid) and renews links
 * close to expiry; a failed video under `protect` does not make every later `up` fail.
 */
import { expectOk, startVideoStack, VideoStack } from "./stack-harness";

const refreshSteps = (r: { steps: { op: string; name: string; changed?: boolean }[] }) =>
    r.steps.filter((s) => s.op === "refresh").map((s) => ({ name: s.name, changed: s.changed }));
/** The plain value of an output (secrets are `{<sig>: ..., value}` in the decrypted checkpoint). */
const plain = (x: unknown) => (typeof x === "object" && x !== null && "value" in x ? x.value : x);
const urlsOf = (s: VideoStack) => s.videos().map((v) => [plain(v.outputs.videoUrl), plain(v.outputs.thumbnailUrl)]);

describe("refresh of unchanged videos (links valid for an hour)", () => {
    let s: VideoStack;
    let stop: () => Promise<void>;
    beforeAll(
        async () =>
            ({ s, stop } = await startVideoStack([
                { name: "a", prompt: "A harbour at dawn", style: "kling-1.0-pro" },
                { name: "b", prompt: "A quiet forest", style: "fast-svd" },
            ])),
    );
    afterAll(async () => stop());

    it("reports no change and keeps the stored links (a drift check passes)", async () => {
        expectOk(await s.stack.up());
        const before = JSON.stringify(urlsOf(s));
        const r = expectOk(await s.stack.refresh());
        expect(
            refreshSteps(r)
                .filter((x) => x.name === "a" || x.name === "b")
                .sort((x, y) => x.name.localeCompare(y.name)),
        ).toEqual([
            { name: "a", changed: false },
            { name: "b", changed: false },
        ]);
        expect(JSON.stringify(urlsOf(s))).toBe(before);
        expect(r.summary).not.toContain("updated");
    });
});

describe("refresh renews links close to expiry", () => {
    let s: VideoStack;
    let stop: () => Promise<void>;
    // Real-time emulator clock, links valid for 2 minutes: inside the renewal margin at once.
    beforeAll(
        async () =>
            ({ s, stop } = await startVideoStack([{ name: "short", prompt: "A short-lived link", style: "fast-svd" }], {
                clockSpeed: 1,
                processingSeconds: 0.3,
                urlTtlSeconds: 120,
            })),
    );
    afterAll(async () => stop());

    it("fetches fresh links, and they work", async () => {
        expectOk(await s.stack.up());
        const [before] = urlsOf(s);
        await new Promise((r) => setTimeout(r, 1100)); // the emulator signs with whole seconds
        const r = expectOk(await s.stack.refresh());
        expect(refreshSteps(r)).toContainEqual({ name: "short", changed: true });
        const [after] = urlsOf(s);
        expect(after[0]).not.toBe(before[0]);
        expect(String(after[0])).toMatch(/expires=\d+&signature=/);
    });
});

describe("a failed video under protect", () => {
    let s: VideoStack;
    let stop: () => Promise<void>;
    beforeAll(async () => ({ s, stop } = await startVideoStack([], { failPromptContains: "[reject]" })));
    afterAll(async () => stop());

    it("is kept (not replaced) by later `up`s, which succeed and say why", async () => {
        s.setVideos([
            { name: "kept", prompt: "A scene [reject]", style: "fast-svd", protect: true },
            { name: "ok", prompt: "A fine scene", style: "fast-svd" },
        ]);
        const first = await s.stack.up();
        expect(first.ok).toBe(false);
        expect(first.errors.join("\n")).toContain("the generation failed");
        const failedId = s.videos().find((v) => v.urn.endsWith("::kept"))?.id;
        expect(failedId).toEqual(expect.any(String));

        // (The engine updates a resource recorded with a partial failure; it must not replace it.)
        const again = expectOk(await s.stack.up());
        expect(again.steps.filter((x) => x.name === "kept").map((x) => x.op)).not.toContain("replace");
        expect(again.stdout).toContain("the resource is protected");
        expect(again.stdout).toContain("pulumi state unprotect");
        expect(s.videos().find((v) => v.urn.endsWith("::kept"))?.id).toBe(failedId);
    });
});
