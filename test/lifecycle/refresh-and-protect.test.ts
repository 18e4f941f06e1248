/**
 * Through the engine stand-in (real program host, real provider host) against the emulator: a refresh
 * renews links close to expiry; a failed video under `protect` does not make every later `up` fail.
 * (That a refresh of unchanged videos reports no change and keeps the stored links, valid for an hour,
 * is checked on the `up --refresh` of up-and-replace.test.ts: its videos are such videos, and a stack
 * of its own cost two more engine operations.)
 */
import { until } from "../until";
import { expectOk, startVideoStack, VideoStack } from "./stack-harness";

const refreshSteps = (r: { steps: { op: string; name: string; changed?: boolean }[] }) =>
    r.steps.filter((s) => s.op === "refresh").map((s) => ({ name: s.name, changed: s.changed }));
/** The plain value of an output (secrets are `{<sig>: ..., value}` in the decrypted checkpoint). */
const plain = (x: unknown) => (typeof x === "object" && x !== null && "value" in x ? x.value : x);
const urlsOf = (s: VideoStack) => s.videos().map((v) => [plain(v.outputs.videoUrl), plain(v.outputs.thumbnailUrl)]);

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
        // The emulator signs with whole seconds (its clock is the real one here): the refresh's links must be
        // signed in a later second than up's, which read the status before it returned.
        const signedBy = Math.floor(Date.now() / 1000);
        await until("the next whole second", () => Math.floor(Date.now() / 1000) > signedBy);
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
