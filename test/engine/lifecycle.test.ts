// The engine stand-in driving the real program host and dynamic provider host through one stack's
// life: create, no-op, update, replace (both orders), removal, refresh, destroy.
import * as fs from "fs";
import * as path from "path";
import { filesStack, expectOk, ops } from "./helpers";
import { SPECIAL_SIG_KEY, SECRET_SIG } from "./index";

const TOKEN = "tok-Zq8-very-secret-config";

describe("engine stand-in: lifecycle of the files fixture", () => {
    const s = filesStack(
        [
            { name: "a", content: "hello" },
            { name: "b", content: "world" },
        ],
        { token: TOKEN },
    );
    const byName = (n: string) => s.fileResources().find((r) => r.urn.endsWith(`::${n}`));

    afterAll(() => fs.rmSync(s.dir, { recursive: true, force: true }));

    test("up creates the resources, returns outputs and keeps secrets out of the checkpoint", async () => {
        const r = await s.stack.up();
        expectOk(r);
        expect(ops(r)).toEqual(["create files-test", "create a", "create b"]);
        expect(r.summary).toBe("Resources: + 3 created");
        // On disk: one file per resource, with its content.
        expect(s.files()).toHaveLength(2);
        const a = byName("a")!;
        expect(fs.readFileSync(path.join(s.dir, `${a.id}.txt`), "utf8")).toBe("hello");
        expect(s.calls().map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual(["create a", "create b"]);
        // Outputs: plain and secret (additionalSecretOutputs) stack outputs.
        expect(r.outputs.names).toEqual({ value: ["a", "b"], secret: false });
        expect(r.outputs.firstSecret).toEqual({ value: "s3cr3t-a-value", secret: true });
        expect(r.diagnostics.map((d) => d.message)).toContainEqual(expect.stringContaining("files fixture: 2 item(s)"));
        // The secret output is stored encrypted; decrypted it is a secret sentinel.
        expect(a.outputs.secretValue).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: "s3cr3t-a-value" });
        expect(a.additionalSecretOutputs).toEqual(["secretValue"]);
        const raw = fs.readFileSync(s.statePath, "utf8");
        // (The fixture's source text, stored in __provider, holds only the template `s3cr3t-${name}-value`.)
        expect(raw).not.toContain("s3cr3t-a-value");
        expect(raw).not.toContain("s3cr3t-b-value");
        expect(raw).toContain('"ciphertext": "v1:');
        expect(JSON.parse(raw).deployment.resources.map((x: { type: string }) => x.type)).toEqual([
            "pulumi:pulumi:Stack",
            "pulumi:providers:pulumi-nodejs",
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
        expect(r.summary).toBe("Resources: 3 unchanged");
        expect(s.calls().length).toBe(before);
        expect(r.outputs.firstSecret.secret).toBe(true);
    });

    test("a changed input the diff does not replace is an update in place", async () => {
        const idBefore = byName("a")!.id;
        s.setItems([
            { name: "a", content: "hello again" },
            { name: "b", content: "world" },
        ]);
        const r = await s.stack.up();
        expectOk(r);
        expect(ops(r)).toContain("update a");
        expect(r.summary).toBe("Resources: ~ 1 updated, 2 unchanged");
        expect(byName("a")!.id).toBe(idBefore);
        expect(fs.readFileSync(path.join(s.dir, `${idBefore}.txt`), "utf8")).toBe("hello again");
        expect(s.calls().slice(-1)[0]).toBe(`update a ${idBefore}`);
    });

    test("a replacing change creates the replacement first, then deletes the replaced one", async () => {
        const oldId = byName("a")!.id!;
        const before = s.calls().length;
        s.setItems([
            { name: "a", content: "hello again", replaceKey: "v2" },
            { name: "b", content: "world" },
        ]);
        const r = await s.stack.up();
        expectOk(r);
        const aSteps = r.steps.filter((x) => x.name === "a").map((x) => x.op);
        expect(aSteps).toEqual(["create-replacement", "replace", "delete-replaced"]);
        expect(r.summary).toBe("Resources: +-1 replaced, 2 unchanged");
        const calls = s.calls().slice(before);
        expect(calls[0]).toMatch(/^create a /);
        expect(calls[1]).toBe(`delete a ${oldId}`);
        const newId = byName("a")!.id!;
        expect(newId).not.toBe(oldId);
        expect(s.files()).toEqual([newId, byName("b")!.id].sort());
        expect(s.fileResources()).toHaveLength(2);
    });

    test("deleteBeforeReplace from the diff deletes first, then creates", async () => {
        const oldId = byName("b")!.id!;
        const before = s.calls().length;
        s.setItems([
            { name: "a", content: "hello again", replaceKey: "v2" },
            { name: "b", content: "world", replaceKey: "v2", dbr: true },
        ]);
        const r = await s.stack.up();
        expectOk(r);
        expect(r.steps.filter((x) => x.name === "b").map((x) => x.op)).toEqual([
            "delete-replaced",
            "replace",
            "create-replacement",
        ]);
        const calls = s.calls().slice(before);
        expect(calls[0]).toBe(`delete b ${oldId}`);
        expect(calls[1]).toMatch(/^create b /);
        expect(fs.existsSync(path.join(s.dir, `${oldId}.txt`))).toBe(false);
        expect(fs.existsSync(path.join(s.dir, `${byName("b")!.id}.txt`))).toBe(true);
    });

    test("a resource removed from the program is deleted, and only it", async () => {
        const aId = byName("a")!.id!;
        const bId = byName("b")!.id!;
        s.setItems([{ name: "a", content: "hello again", replaceKey: "v2" }]);
        const r = await s.stack.up();
        expectOk(r);
        expect(ops(r)).toEqual(["same files-test", "same a", "delete b"]);
        expect(s.calls().slice(-1)[0]).toBe(`delete b ${bId}`);
        expect(s.files()).toEqual([aId]);
        expect(s.fileResources().map((x) => x.id)).toEqual([aId]);
    });

    test("refresh drops a resource whose Read returns an empty id, without deleting anything", async () => {
        const aId = byName("a")!.id!;
        fs.rmSync(path.join(s.dir, `${aId}.txt`));
        const before = s.calls().length;
        const r = await s.stack.refresh();
        expectOk(r);
        expect(ops(r)).toEqual(["delete a"]);
        expect(s.calls().slice(before)).toEqual([`read a ${aId}`]);
        expect(s.fileResources()).toHaveLength(0);
    });

    test("up --refresh reads first, then the program recreates what is gone; destroy removes everything", async () => {
        const r = await s.stack.up({ refresh: true });
        expectOk(r);
        expect(ops(r)).toEqual(["same files-test", "create a"]);
        expect(s.files()).toEqual([byName("a")!.id]);
        const d = await s.stack.destroy();
        expectOk(d);
        expect(ops(d)).toEqual(["delete a", "delete files-test"]);
        expect(s.files()).toEqual([]);
        expect(s.stack.readState().deployment.resources).toEqual([]);
    });
});
