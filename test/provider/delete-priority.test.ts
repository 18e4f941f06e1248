/**
 * The status reads that prove a delete are part of the delete: the budget serves them with the
 * creations and deletes, so a big destroy's proofs never take the share kept for other stacks' polls
 * (over real HTTP against the emulator; the budget records the class of every request it lets through).
 */
import axios from "axios";
import { ImagineClient } from "../../provider/api/client";
import { RequestSender } from "../../provider/api/request-sender";
import { Priority, RequestBudget } from "../../provider/budget/budget";
import { systemClock } from "../../provider/core/clock";
import { checkGone } from "../../provider/deletion/delete-verification";
import { Harness, startHarness, TOKEN } from "./harness";

class RecordingBudget extends RequestBudget {
    readonly classes: Priority[] = [];
    override acquire(priority: Priority): Promise<void> {
        this.classes.push(priority);
        return super.acquire(priority);
    }
}

let h: Harness;
let budget: RecordingBudget;
let client: ImagineClient;
beforeAll(async () => {
    h = await startHarness();
});
afterAll(async () => h.stop());
beforeEach(() => {
    budget = new RecordingBudget(60_000, systemClock);
    client = new ImagineClient(
        new RequestSender({ baseUrl: h.emulator.url, token: TOKEN, requestTimeoutMs: 5000, budget }),
    );
});

const deadline = () => Date.now() + 10_000;

it("a delete told 404 confirms it with a status read at the deletes' priority", async () => {
    expect(await client.deleteVideo("no-such-video", deadline())).toBe("already-gone");
    expect(budget.classes).toEqual(["high", "high"]);
});

it("the status read that proves a delete (no file link) is at the deletes' priority; a poll stays low", async () => {
    const { id } = await client.createVideo({ prompt: "a lighthouse", style: "fast-svd" }, deadline());
    await client.getStatus(id, deadline());
    expect(budget.classes).toEqual(["high", "low"]);

    budget.classes.length = 0;
    expect(await checkGone({ client, requestTimeoutMs: 5000 }, id, undefined, "file", deadline())).toEqual({
        gone: false,
        seenBy: "status",
    });
    await axios.delete(`${h.emulator.url}/v2/video/delete/${id}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(await checkGone({ client, requestTimeoutMs: 5000 }, id, undefined, "file", deadline())).toEqual({
        gone: true,
        proof: "status-404",
    });
    expect(budget.classes).toEqual(["high", "high"]);
});
