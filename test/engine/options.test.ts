// Resource options and ordering in the engine stand-in: protect, retainOnDelete, destroy order,
// timeouts, the checkpoint's passphrase.
import * as fs from "fs";
import { until } from "../until";
import { filesStack, expectOk, maxDeletesInFlight, ops } from "./helpers";
import { EngineStack } from "./index";

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

    test("destroy deletes in reverse dependency order", async () => {
        const s = track(
            filesStack([
                { name: "first", content: "1" },
                { name: "second", content: "2", dependsOn: ["first"] },
                { name: "third", content: "3", dependsOn: ["second"] },
            ]),
        );
        expectOk(await s.stack.up());
        const deps = s.fileResources().find((x) => x.urn.endsWith("::third"))!.dependencies;
        expect(deps).toEqual([expect.stringMatching(/::second$/)]);
        const d = await s.stack.destroy();
        expectOk(d);
        expect(
            s
                .calls()
                .filter((c) => c.startsWith("delete"))
                .map((c) => c.split(" ")[1]),
        ).toEqual(["third", "second", "first"]);
        expect(s.files()).toEqual([]);
    });

    test("independent deletes are in flight at once, as the CLI's unbounded --parallel; dependents still go first", async () => {
        const items = [
            { name: "base", content: "b" },
            ...[1, 2, 3, 4, 5].map((i) => ({
                name: `leaf${i}`,
                content: `${i}`,
                deleteTogether: 5,
                deleteGroup: 5,
                dependsOn: ["base"],
            })),
        ];
        const s = track(filesStack(items));
        expectOk(await s.stack.up());
        expectOk(await s.stack.destroy());
        expect(maxDeletesInFlight(s.dir)).toBe(5);
        const order = s
            .calls()
            .filter((c) => c.startsWith("delete"))
            .map((c) => c.split(" ")[1]);
        expect(order.slice(-1)).toEqual(["base"]);
        expect(s.files()).toEqual([]);
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

    test("the checkpoint cannot be decrypted with another passphrase", async () => {
        const s = track(filesStack([{ name: "a", content: "x" }]));
        expectOk(await s.stack.up());
        const other = new EngineStack({ ...s.stack.opts, passphrase: "wrong" });
        expect(() => other.decryptedState()).toThrow(/incorrect passphrase/);
        expect(s.stack.decryptedState().deployment.resources.length).toBe(3);
        expect(JSON.parse(fs.readFileSync(s.statePath, "utf8")).deployment.secrets_providers.type).toBe("passphrase");
        expectOk(await s.stack.destroy());
        expect(fs.readdirSync(s.dir).filter((f) => f.endsWith(".txt") && f !== "configured-token.txt")).toEqual([]);
    });
});
