// Pure parts of the engine stand-in (no processes), plus the components fixture: parented URNs,
// the untyped dynamic resource type, component outputs, and a clear refusal of other packages.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeUrn, urnParts } from "./urn";
import { summarize } from "./summary";
import { Crypter, makeSecret, stripSecrets, isSecret } from "./secrets";
import { EngineStack, findPulumiCli } from "./index";
import { expectOk, ops } from "./helpers";

describe("engine stand-in: pure helpers", () => {
    test("URNs qualify the type with a non-stack parent's type", () => {
        const stackUrn = makeUrn("dev", "proj", undefined, "pulumi:pulumi:Stack", "proj-dev");
        expect(stackUrn).toBe("urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev");
        const comp = makeUrn("dev", "proj", stackUrn, "my:index:Comp", "c");
        expect(comp).toBe("urn:pulumi:dev::proj::my:index:Comp::c");
        const child = makeUrn("dev", "proj", comp, "pulumi-nodejs:dynamic:Resource", "x::y");
        expect(child).toBe("urn:pulumi:dev::proj::my:index:Comp$pulumi-nodejs:dynamic:Resource::x::y");
        expect(urnParts(child)).toMatchObject({ type: "pulumi-nodejs:dynamic:Resource", name: "x::y" });
    });

    test("summaries read like pulumi's", () => {
        const st = (op: any, name = "n") => ({ op, urn: `urn:pulumi:s::p::t::${name}`, type: "t", name });
        expect(summarize([st("create"), st("delete"), st("same"), st("same")], false)).toBe(
            "Resources: + 1 created, - 1 deleted, 2 unchanged",
        );
        expect(summarize([st("create-replacement"), st("replace"), st("delete-replaced"), st("update")], false)).toBe(
            "Resources: ~ 1 updated, +-1 replaced",
        );
        expect(summarize([st("create")], true)).toBe("Resources: + 1 to create");
        expect(summarize([], false)).toBe("Resources: no changes");
    });

    test("secrets: encryption round-trips, ciphertext hides the value, a wrong passphrase fails", () => {
        const salt = Crypter.newSalt();
        const c = new Crypter("pw", salt);
        const v = { a: makeSecret({ token: "hunter2" }), b: [1, makeSecret("x")], c: "plain" };
        const enc = c.encryptValue(v);
        expect(JSON.stringify(enc)).not.toContain("hunter2");
        expect(c.decryptValue(enc)).toEqual(v);
        expect(() => new Crypter("other", salt).decryptValue(enc)).toThrow(/incorrect passphrase/);
        expect(stripSecrets(v)).toEqual({ a: { token: "hunter2" }, b: [1, "x"], c: "plain" });
        expect(isSecret(v.a)).toBe(true);
    });

    test("findPulumiCli finds only an executable named pulumi on PATH", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-cli-"));
        const saved = process.env.PATH;
        try {
            process.env.PATH = dir;
            expect(findPulumiCli()).toBeUndefined();
            fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
            expect(findPulumiCli()).toBe(path.join(dir, "pulumi"));
        } finally {
            process.env.PATH = saved;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("engine stand-in: components fixture", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-components-"));
    const stack = new EngineStack({
        programDir: path.join(__dirname, "fixtures", "components"),
        projectName: "components",
        stackName: "c",
        statePath: path.join(dir, "state.json"),
        config: { "components:text": { value: "hello" } },
        // As in helpers.ts: the fixture's types are checked by `tsc -p tsconfig.json` (tests included), and
        // ts-node's type-checking run by test/lifecycle/examples.test.ts; not again on each of these runs.
        env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("a component parents an untyped dynamic resource; a foreign package is refused clearly", async () => {
        const r = await stack.up();
        expectOk(r);
        expect(ops(r)).toEqual(["create components-c", "create grp", "create grp-note"]);
        const noteUrn = "urn:pulumi:c::components::test:index:Group$pulumi-nodejs:dynamic:Resource::grp-note";
        expect(r.outputs.noteUrn.value).toBe(noteUrn);
        expect(r.outputs.noteLength.value).toBe(5);
        const state = stack.decryptedState().deployment.resources;
        const note = state.find((x) => x.urn === noteUrn)!;
        expect(note.id).toBe("note-hello");
        expect(note.parent).toBe("urn:pulumi:c::components::test:index:Group::grp");
        expect(state.find((x) => x.type === "test:index:Group")!.outputs).toEqual({ length: 5 });

        stack.setConfig("components:foreign", { value: "true" });
        const f = await stack.up();
        expect(f.ok).toBe(false);
        expect(f.errors.join("\n")).toContain(
            "resource type aws:s3/bucket:Bucket is not modelled by the engine stand-in",
        );
        expect(stack.readState().deployment.resources.map((x) => x.type)).not.toContain("aws:s3/bucket:Bucket");

        const d = await stack.destroy();
        expectOk(d);
        expect(ops(d)).toEqual(["delete grp-note", "delete grp", "delete components-c"]);
        expect(stack.readState().deployment.resources).toEqual([]);
    });
});
