// The engine stand-in driving the real program host and dynamic provider host through one stack's
// life: create, no-op, update, replace (both orders), removal, refresh. The update, both replacements and
// the removal are one `up` (each on its own resource); destroy is covered by options.test.ts and
// failures.test.ts.
import * as fs from "fs";
import * as path from "path";
import { filesStack, expectHeld, expectOk, ops } from "./helpers";
import { OperationResult, SPECIAL_SIG_KEY, SECRET_SIG } from "./index";

const TOKEN = "tok-Zq8-very-secret-config";

describe("engine stand-in: lifecycle of the files fixture", () => {
    const s = filesStack(
        [
            { name: "a", content: "hello" },
            { name: "b", content: "world" },
            { name: "c", content: "sea" },
            { name: "d", content: "sky" },
        ],
        { token: TOKEN },
    );
    const byName = (n: string) => s.fileResources().find((r) => r.urn.endsWith(`::${n}`));

    afterAll(() => fs.rmSync(s.dir, { recursive: true, force: true }));

    test("up creates the resources, returns outputs and keeps secrets out of the checkpoint", async () => {
        const r = await s.stack.up();
        expectOk(r);
        expect(ops(r)).toEqual(["create files-test", "create a", "create b", "create c", "create d"]);
        expect(r.summary).toBe("Resources: + 5 created");
        // On disk: one file per resource, with its content.
        expect(s.files()).toHaveLength(4);
        const a = byName("a")!;
        expect(fs.readFileSync(path.join(s.dir, `${a.id}.txt`), "utf8")).toBe("hello");
        expect(s.calls().map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
            "create a",
            "create b",
            "create c",
            "create d",
        ]);
        // Outputs: plain and secret (additionalSecretOutputs) stack outputs.
        expect(r.outputs.names).toEqual({ value: ["a", "b", "c", "d"], secret: false });
        expect(r.outputs.firstSecret).toEqual({ value: "s3cr3t-a-value", secret: true });
        expect(r.diagnostics.map((d) => d.message)).toContainEqual(expect.stringContaining("files fixture: 4 item(s)"));
        // The secret output is stored encrypted; decrypted it is a secret sentinel.
        expect(a.outputs.secretValue).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: "s3cr3t-a-value" });
        expect(a.additionalSecretOutputs).toEqual(["secretValue"]);
        const raw = fs.readFileSync(s.statePath, "utf8");
        // (The fixture's source text, stored in __provider, holds only the template `s3cr3t-${name}-value`.)
        for (const n of ["a", "b", "c", "d"]) expect(raw).not.toContain(`s3cr3t-${n}-value`);
        expect(raw).toContain('"ciphertext": "v1:');
        expect(JSON.parse(raw).deployment.resources.map((x: { type: string }) => x.type)).toEqual([
            "pulumi:pulumi:Stack",
            "pulumi:providers:pulumi-nodejs",
            "pulumi-nodejs:dynamic/files:File",
            "pulumi-nodejs:dynamic/files:File",
            "pulumi-nodejs:dynamic/files:File",
            "pulumi-nodejs:dynamic/files:File",
        ]);
        // The secret config value reached the provider's configure (it wrote it to disk) and is nowhere in the checkpoint.
        expect(fs.readFileSync(path.join(s.dir, "configured-token.txt"), "utf8")).toBe(TOKEN);
        expect(raw).not.toContain(TOKEN);
        expect(r.stderr).not.toContain(TOKEN);
    });

    test("up again with no change: only same steps, no create/update/delete call", async () => {
        const before = s.calls().length;
        const r = await s.stack.up();
        expectOk(r);
        expect(r.steps.every((x) => x.op === "same")).toBe(true);
        expect(r.summary).toBe("Resources: 5 unchanged");
        expect(s.calls().length).toBe(before);
        expect(r.outputs.firstSecret.secret).toBe(true);
    });

    // One up, one kind of change per resource: a updated in place, b replaced create-first, c replaced
    // delete-first (deleteBeforeReplace from the diff), d removed from the program.
    describe("one up: a updated, b replaced, c replaced delete-first, d removed", () => {
        let r: OperationResult;
        let old: Record<string, string>;
        /** The provider calls this up made, per resource name. */
        let callsOf: (name: string) => string[];
        let newCalls: string[];
        beforeAll(async () => {
            old = Object.fromEntries(["a", "b", "c", "d"].map((n) => [n, byName(n)!.id!]));
            const before = s.calls().length;
            s.setItems([
                { name: "a", content: "hello again" },
                { name: "b", content: "world", replaceKey: "v2" },
                { name: "c", content: "sea", replaceKey: "v2", dbr: true },
            ]);
            r = await s.stack.up();
            expectOk(r);
            newCalls = s.calls().slice(before);
            callsOf = (name) => newCalls.filter((c) => c.split(" ")[1] === name);
        });
        const opsOf = (name: string) => r.steps.filter((x) => x.name === name).map((x) => x.op);

        test("a changed input the diff does not replace is an update in place", () => {
            expect(opsOf("a")).toEqual(["update"]);
            expect(r.summary).toBe("Resources: ~ 1 updated, +-2 replaced, - 1 deleted, 1 unchanged");
            expect(byName("a")!.id).toBe(old.a);
            expect(fs.readFileSync(path.join(s.dir, `${old.a}.txt`), "utf8")).toBe("hello again");
            expect(callsOf("a")).toEqual([`update a ${old.a}`]);
        });

        test("a replacing change creates the replacement first, then deletes the replaced one", () => {
            expect(opsOf("b")).toEqual(["create-replacement", "replace", "delete-replaced"]);
            const calls = callsOf("b");
            expect(calls).toHaveLength(2);
            expect(calls[0]).toMatch(/^create b /);
            expect(calls[1]).toBe(`delete b ${old.b}`);
            const newId = byName("b")!.id!;
            expect(newId).not.toBe(old.b);
            expect(calls[0]).toBe(`create b ${newId}`);
            expect(fs.existsSync(path.join(s.dir, `${old.b}.txt`))).toBe(false);
            expect(fs.readFileSync(path.join(s.dir, `${newId}.txt`), "utf8")).toBe("world");
        });

        test("deleteBeforeReplace from the diff deletes first, then creates", () => {
            expect(opsOf("c")).toEqual(["delete-replaced", "replace", "create-replacement"]);
            const calls = callsOf("c");
            expect(calls).toHaveLength(2);
            expect(calls[0]).toBe(`delete c ${old.c}`);
            expect(calls[1]).toMatch(/^create c /);
            expect(fs.existsSync(path.join(s.dir, `${old.c}.txt`))).toBe(false);
            expect(fs.existsSync(path.join(s.dir, `${byName("c")!.id}.txt`))).toBe(true);
        });

        test("a resource removed from the program is deleted, and only it", () => {
            expect(opsOf("d")).toEqual(["delete"]);
            expect(opsOf("files-test")).toEqual(["same"]);
            expect(r.steps.filter((x) => x.op === "delete").map((x) => x.name)).toEqual(["d"]);
            expect(callsOf("d")).toEqual([`delete d ${old.d}`]);
            // The only other deletes are of the replaced b and c.
            expect(newCalls.filter((c) => c.startsWith("delete")).sort()).toEqual(
                [`delete b ${old.b}`, `delete c ${old.c}`, `delete d ${old.d}`].sort(),
            );
            const live = ["a", "b", "c"].map((n) => byName(n)!.id!).sort();
            expect(s.files()).toEqual(live);
            expect(
                s
                    .fileResources()
                    .map((x) => x.id)
                    .sort(),
            ).toEqual(live);
        });
    });

    test("refresh drops a resource whose Read returns an empty id, without deleting anything", async () => {
        const ids = Object.fromEntries(["a", "b", "c"].map((n) => [n, byName(n)!.id!]));
        fs.rmSync(path.join(s.dir, `${ids.a}.txt`));
        const before = s.calls().length;
        const r = await s.stack.refresh();
        expectOk(r);
        expect(r.steps.filter((x) => x.op !== "refresh").map((x) => `${x.op} ${x.name}`)).toEqual(["delete a"]);
        expect(r.steps.filter((x) => x.op === "refresh").every((x) => !x.changed)).toBe(true);
        expect(s.calls().slice(before).sort()).toEqual([`read a ${ids.a}`, `read b ${ids.b}`, `read c ${ids.c}`]);
        expectHeld(s, [ids.b, ids.c]);
    });

    test("up --refresh reads first, then the program recreates what is gone", async () => {
        const before = s.calls().length;
        const r = await s.stack.up({ refresh: true });
        expectOk(r);
        expect(r.steps.filter((x) => x.op !== "refresh" && x.op !== "same").map((x) => `${x.op} ${x.name}`)).toEqual([
            "create a",
        ]);
        // The stack first; b and c are registered at once, so their order is the program's race.
        const same = r.steps.filter((x) => x.op === "same").map((x) => x.name);
        expect(same[0]).toBe("files-test");
        expect(same.slice(1).sort()).toEqual(["b", "c"]);
        // The reads of what is in state come before the program's create.
        const calls = s.calls().slice(before);
        expect(calls.slice(0, 2).sort()).toEqual([`read b ${byName("b")!.id}`, `read c ${byName("c")!.id}`]);
        expect(calls.slice(2)).toEqual([`create a ${byName("a")!.id}`]);
        expect(s.files()).toEqual(["a", "b", "c"].map((n) => byName(n)!.id!).sort());
    });
});
