/** The API token never leaves the Authorization header: not in errors (deeply inspected), nor in logs. */
import * as net from "net";
import { inspect } from "util";
import { createFailure, Harness, PROVIDER, startHarness, TOKEN } from "./harness";

const text = { prompt: "A city", style: "kling-1.0-pro", __provider: PROVIDER };
let h: Harness;
beforeAll(async () => {
    h = await startHarness();
});
afterAll(async () => {
    await h.stop();
});

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

describe("the token", () => {
    it("appears in no thrown object, however deeply inspected, and in no log line", async () => {
        const thrown: unknown[] = [];
        const collect = (p: Promise<unknown>) =>
            p.then(
                () => undefined,
                (e) => thrown.push(e),
            );

        const timeouts = { "imagine:deleteTimeoutMinutes": "0.01", "imagine:requestTimeoutSeconds": "0.3" };
        const fast = { backoff: { baseDelayMs: 20, maxDelayMs: 100 } };
        const p = await h.handlers(timeouts, fast);
        const { id, outs } = await p.create(text);

        h.emulator.configure({ faultReset: 1 });
        await collect(p.create(text));
        await collect(p.delete(id, outs));
        h.emulator.configure({ faultReset: 0, fault500: 1 });
        await collect(p.read(id, outs));
        h.emulator.configure({ fault500: 0, faultHang: 1, hangSeconds: 5 });
        await collect(p.read(id, outs));
        h.emulator.configure({ faultHang: 0 });

        const down = await h.handlers({ ...timeouts, "imagine:baseUrl": `http://127.0.0.1:${await freePort()}` }, fast);
        await collect(down.create(text));
        await collect(down.delete(id, outs));

        const wrong = await h.handlers({ ...timeouts, "imagine:apiToken": `${TOKEN}x` }, fast);
        await collect(wrong.create(text));
        thrown.push(
            await createFailure(
                await h.handlers({ ...timeouts, "imagine:apiToken": `bad token ${TOKEN}` }),
                text,
            ).catch((e) => e),
        );

        expect(thrown.length).toBeGreaterThanOrEqual(8);
        for (const e of thrown) {
            const seen = inspect(e, { depth: 20, showHidden: true }) + JSON.stringify(e) + String((e as Error).stack);
            expect(seen).not.toContain(TOKEN);
        }
        expect(h.logs.join("\n")).not.toContain(TOKEN);
    });
});
