// Failure paths of the engine stand-in: preview, Check failures, partial create failures, plain
// create errors, delete failures (the partial create and the delete failures on one stack).
import * as fs from "fs";
import * as path from "path";
import { filesStack, expectHeld, expectOk, ops } from "./helpers";
import { OperationResult, ResourceState } from "./index";

describe("engine stand-in: preview and failures", () => {
    const stacks: { dir: string }[] = [];
    const track = <T extends { dir: string }>(s: T) => (stacks.push(s), s);
    afterAll(() => stacks.forEach((s) => fs.rmSync(s.dir, { recursive: true, force: true })));

    test("preview reports what would change and calls no create", async () => {
        const s = track(filesStack([{ name: "a", content: "x" }]));
        const r = await s.stack.preview();
        expectOk(r);
        expect(ops(r)).toEqual(["create files-test", "create a"]);
        expect(r.summary).toBe("Resources: + 2 to create");
        expect(s.calls()).toEqual([]);
        expect(s.files()).toEqual([]);
        expect(fs.existsSync(s.statePath)).toBe(false);
    });

    test("a Check failure stops the deployment before any create, naming the property", async () => {
        const s = track(
            filesStack([
                { name: "ok", content: "fine" },
                { name: "bad", content: "INVALID", dependsOn: ["ok"] },
            ]),
        );
        const r = await s.stack.up();
        expect(r.ok).toBe(false);
        expect(r.errors).toContainEqual(expect.stringContaining("content: content must not be INVALID"));
        expect(r.errors.join("\n")).toContain("(bad)");
        expect(s.calls().filter((c) => c.startsWith("create bad"))).toEqual([]);
        expect(s.fileResources().map((x) => x.urn)).not.toContainEqual(expect.stringContaining("::bad"));
    });

    test("a plain create error records nothing", async () => {
        const s = track(filesStack([{ name: "nope", content: "x", failCreate: "plain" }]));
        const r = await s.stack.up();
        expect(r.ok).toBe(false);
        expect(r.errors.join("\n")).toContain("create of nope failed before anything was made");
        expect(s.calls()).toEqual([expect.stringMatching(/^create nope /)]);
        expect(s.fileResources()).toEqual([]);
        expect(s.files()).toEqual([]);
    });

    // One stack for the partial create and the delete failure: `half` depends on the three others, so
    // they are all made before its create fails; the first destroy deletes `half` (and `free`) and
    // stops at `stuck`, the second completes.
    describe("one stack: a partial create, then deletes that fail and succeed", () => {
        const s = track(
            filesStack([
                { name: "base", content: "b" },
                { name: "stuck", content: "s", failDelete: true, dependsOn: ["base"] },
                { name: "free", content: "f" },
                { name: "half", content: "made", failCreate: "partial", dependsOn: ["base", "stuck", "free"] },
            ]),
        );
        let up: OperationResult;
        let ids: Record<string, string>;
        let half: ResourceState;
        let filesAfterUp: string[];
        let d1: OperationResult;
        beforeAll(async () => {
            up = await s.stack.up();
            ids = Object.fromEntries(s.fileResources().map((x) => [x.urn.split("::").pop(), x.id!]));
            half = s.fileResources().find((x) => x.urn.endsWith("::half"))!;
            filesAfterUp = s.files();
            d1 = await s.stack.destroy();
        });

        test("a partial create failure is recorded with its id, outputs and initErrors; destroy then deletes it", () => {
            expect(up.ok).toBe(false);
            expect(up.errors.join("\n")).toContain("create of half failed after the file was written");
            expect(half).toBeDefined();
            expect(half.id).toMatch(/^half-/);
            expect(half.initErrors).toEqual(["the file never became ready"]);
            expect(half.outputs.path).toBe(path.join(s.dir, `${half.id}.txt`));
            expect(typeof half.outputs.__provider).toBe("string");
            expect(filesAfterUp).toEqual([ids.base, ids.free, half.id, ids.stuck].sort());
            expect(ops(d1)).toContain("delete half");
            expect(s.calls().filter((c) => c.startsWith("delete half"))).toEqual([`delete half ${half.id}`]);
            expect(s.files()).not.toContain(half.id);
            expect(s.fileResources().map((x) => x.urn)).not.toContainEqual(expect.stringContaining("::half"));
        });

        test("a delete failure leaves the resource and what it depends on in state; a later destroy completes", async () => {
            expect(d1.ok).toBe(false);
            expect(d1.errors.join("\n")).toContain("delete of stuck refused (failDelete is set)");
            expect(ops(d1)).toEqual(["delete half", "delete free"]);
            expectHeld(s, [ids.base, ids.stuck]);
            expect(s.calls().filter((c) => c.startsWith("delete base"))).toEqual([]);

            fs.writeFileSync(path.join(s.dir, "allow-delete"), "");
            const d2 = await s.stack.destroy();
            expect(d2.ok).toBe(true);
            expect(ops(d2)).toEqual(["delete stuck", "delete base", "delete files-test"]);
            expect(s.files()).toEqual([]);
            expect(s.fileResources()).toEqual([]);
            expect(s.stack.readState().deployment.resources).toEqual([]);
        });
    });
});
