// Resource options and ordering in the engine stand-in: protect, retainOnDelete, destroy order,
// timeouts, the checkpoint's passphrase.
import * as fs from "fs";
import * as path from "path";
import { until } from "../until";
import { filesStack, expectOk, FilesStack, maxDeletesInFlight, ops } from "./helpers";
import { EngineStack, SECRET_SIG, SPECIAL_SIG_KEY } from "./index";

/** Live child processes of this jest worker (Linux /proc). */
function childPids(): number[] {
    return fs
        .readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
            try {
                const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
                const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
                return Number(fields[1]) === process.pid && fields[0] !== "Z";
            } catch {
                return false;
            }
        })
        .map(Number);
}

describe("engine stand-in: options and ordering", () => {
    const stacks: { dir: string }[] = [];
    const track = <T extends { dir: string }>(s: T) => (stacks.push(s), s);
    afterAll(() => stacks.forEach((s) => fs.rmSync(s.dir, { recursive: true, force: true })));

    test("protect blocks deletion; retainOnDelete drops from state without a Delete call", async () => {
        const s = track(
            filesStack([
                { name: "guarded", content: "g", protect: true },
                { name: "kept", content: "k", retain: true },
            ]),
        );
        expectOk(await s.stack.up());
        const ids = Object.fromEntries(s.fileResources().map((x) => [x.urn.split("::").pop(), x.id]));
        expect(s.fileResources().find((x) => x.id === ids.guarded)!.protect).toBe(true);

        s.setItems([]);
        const r = await s.stack.up();
        expect(r.ok).toBe(false);
        expect(r.errors.join("\n")).toContain("as it is currently marked for protection");
        expect(ops(r)).toContain("delete kept");
        expect(s.calls().filter((c) => c.startsWith("delete"))).toEqual([]);
        expect(s.fileResources().map((x) => x.id)).toEqual([ids.guarded]);
        expect(s.files()).toEqual([ids.guarded, ids.kept].sort()); // retained: still on disk, gone from state

        const d1 = await s.stack.destroy();
        expect(d1.ok).toBe(false);
        expect(d1.errors.join("\n")).toContain(`unable to delete resource "${s.fileResources()[0].urn}"`);

        s.setItems([{ name: "guarded", content: "g", protect: false }]);
        expectOk(await s.stack.up());
        const d2 = await s.stack.destroy();
        expectOk(d2);
        expect(s.files()).toEqual([ids.kept]);
        expect(s.stack.readState().deployment.resources).toEqual([]);
    });

    // One stack, one up and one destroy for the destroy order, the deletes in flight and the passphrase: a
    // dependency chain (first <- second <- third) and a fan of five leaves on a base, independent of the chain.
    describe("one stack: a dependency chain and a fan of independent leaves", () => {
        let s: FilesStack;
        /** The checkpoint as the up left it (secrets encrypted), before the destroy. */
        let afterUp: string;
        let deletes: string[];
        beforeAll(async () => {
            s = track(
                filesStack([
                    { name: "first", content: "1" },
                    { name: "second", content: "2", dependsOn: ["first"] },
                    { name: "third", content: "3", dependsOn: ["second"] },
                    { name: "base", content: "b" },
                    ...[1, 2, 3, 4, 5].map((i) => ({
                        name: `leaf${i}`,
                        content: `${i}`,
                        deleteTogether: 5,
                        deleteGroup: 5,
                        dependsOn: ["base"],
                    })),
                ]),
            );
            expectOk(await s.stack.up());
            afterUp = path.join(s.dir, "after-up.json");
            fs.copyFileSync(s.statePath, afterUp);
            expectOk(await s.stack.destroy());
            deletes = s
                .calls()
                .filter((c) => c.startsWith("delete"))
                .map((c) => c.split(" ")[1]);
        });
        const stateAfterUp = (passphrase?: string) =>
            new EngineStack({ ...s.stack.opts, statePath: afterUp, passphrase: passphrase ?? s.stack.opts.passphrase });

        test("destroy deletes in reverse dependency order", () => {
            const deps = stateAfterUp()
                .decryptedState()
                .deployment.resources.find((x) => x.urn.endsWith("::third"))!.dependencies;
            expect(deps).toEqual([expect.stringMatching(/::second$/)]);
            expect(deletes.filter((n) => ["first", "second", "third"].includes(n))).toEqual([
                "third",
                "second",
                "first",
            ]);
            expect(s.files()).toEqual([]);
            expect(s.stack.readState().deployment.resources).toEqual([]);
        });

        test("independent deletes are in flight at once, as the CLI's unbounded --parallel; dependents still go first", () => {
            expect(maxDeletesInFlight(s.dir)).toBe(5);
            const fan = deletes.filter((n) => n === "base" || n.startsWith("leaf"));
            expect(fan).toHaveLength(6);
            expect(fan.slice(-1)).toEqual(["base"]);
        });

        test("the checkpoint cannot be decrypted with another passphrase", () => {
            expect(() => stateAfterUp("wrong").decryptedState()).toThrow(/incorrect passphrase/);
            // The stack, the provider and the nine files; the right passphrase decrypts their secrets.
            const resources = stateAfterUp().decryptedState().deployment.resources;
            expect(resources.length).toBe(11);
            expect(resources.find((x) => x.urn.endsWith("::first"))!.outputs.secretValue).toEqual({
                [SPECIAL_SIG_KEY]: SECRET_SIG,
                value: "s3cr3t-first-value",
            });
            expect(JSON.parse(fs.readFileSync(afterUp, "utf8")).deployment.secrets_providers.type).toBe("passphrase");
        });
    });

    test("parallel caps the deletes in flight, like --parallel N", async () => {
        const s = track(
            filesStack(
                // Each waits for a second one in flight: a cap of 2 shows as 2 (never more), no cap as more.
                [1, 2, 3, 4, 5].map((i) => ({ name: `v${i}`, content: `${i}`, deleteTogether: 2, deleteGroup: 5 })),
                { parallel: 2 },
            ),
        );
        expectOk(await s.stack.up());
        expectOk(await s.stack.destroy());
        expect(maxDeletesInFlight(s.dir)).toBe(2);
        expect(s.files()).toEqual([]);
    });

    test("the operation timeout stops every process it started and reports it", async () => {
        // The create never ends by itself, so the operation's own timeout is what stops it.
        const s = track(filesStack([{ name: "slow", content: "x", holdCreate: true }], { timeoutMs: 3000 }));
        const t = Date.now();
        const pending = s.stack.up();
        let during: number[] = [];
        await until("the program host to run", () => (during = childPids()).length > 0, 3000, 10);
        const r = await pending;
        expect(r.ok).toBe(false);
        expect(r.errors).toContainEqual("operation up timed out after 3000 ms");
        expect(Date.now() - t).toBeLessThan(20_000);
        expect(childPids()).toEqual([]);
        expect(during.every((pid) => !fs.existsSync(`/proc/${pid}`))).toBe(true);
    });
});
