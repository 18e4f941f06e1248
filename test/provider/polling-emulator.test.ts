/**
 * Waiting for videos through the provider's methods over real HTTP against the emulator, with the
 * provider and the emulator on one injected clock (a sleep advances both at once): the lag and the
 * request count at each generation time at default settings, what a learned style saves, resumed
 * and adopted waits, and the progress lines of a long wait.
 */
import axios from "axios";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../../emulator";
import { createHandlers, VideoHandlers } from "../../provider/methods/handlers";
import { FakeClock } from "./fake-clock";
import { countRequests, createFailure, PROVIDER, TOKEN } from "./harness";

const second = 1000;
const minute = 60_000;

let clock: FakeClock;
let emulator: RunningEmulator;
let dataDir: string;
let logs: { at: number; line: string }[];

beforeAll(async () => {
    clock = new FakeClock(Date.now());
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-polling-"));
    emulator = await startEmulator({ dataDir, tokens: [TOKEN], now: () => clock.now(), clockSpeed: 1, credits: 1000 });
});
afterAll(async () => {
    await emulator.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
    logs = [];
});

/** Handlers at default settings (only the token and the emulator's URL set), on the shared clock. */
async function provider(config: Record<string, string> = {}): Promise<VideoHandlers> {
    const h = createHandlers({
        clock,
        log: (line) => logs.push({ at: clock.now(), line }),
        env: {},
        cwd: () => dataDir,
    });
    const all: Record<string, string> = { "imagine:apiToken": TOKEN, "imagine:baseUrl": emulator.url, ...config };
    await h.configure({ config: { get: (k: string) => all[k] } });
    return h;
}

const statusRequests = async () => countRequests(await emulator.stats(), /status/);

/** Creates one video taking `minutes` and waits for it: status requests made, and how late it was noticed. */
async function generate(
    p: VideoHandlers,
    minutes: number,
    style = "kling-1.0-pro",
    extra: Record<string, unknown> = {},
) {
    emulator.configure({ processingSeconds: minutes * 60 });
    const before = await statusRequests();
    const { id, outs } = await p.create({ prompt: `a ${minutes}-minute video`, style, __provider: PROVIDER, ...extra });
    expect(outs.status).toBe("finished");
    const doneAt = Date.parse(String(outs.createdAt)) + minutes * minute;
    return { id, requests: (await statusRequests()) - before, lagMs: clock.now() - doneAt };
}

describe("at default settings", () => {
    it.each([0.5, 1, 3, 12, 25])("notices a %s-minute video within max(15 s, 25%% of it)", async (minutes) => {
        const { requests, lagMs } = await generate(await provider(), minutes);
        expect(lagMs).toBeGreaterThanOrEqual(0);
        expect(lagMs).toBeLessThanOrEqual(Math.max(15 * second, 0.25 * minutes * minute));
        if (minutes === 12) {
            expect(requests).toBeLessThanOrEqual(30);
            expect(lagMs).toBeLessThanOrEqual(30 * second);
        }
        if (minutes <= 1) expect(requests).toBeLessThanOrEqual(6);
    });

    it("says what is happening at every pause of a long wait: status, time elapsed, next check", async () => {
        const { id, requests } = await generate(await provider(), 12);
        const lines = logs.filter((l) => l.line.startsWith(`video ${id}:`));
        expect(lines.some((l) => /first status check in \d+(\.\d)?s$/.test(l.line))).toBe(true);
        const progress = lines.filter((l) => /: processing \(\d+s elapsed\); next check in \d+(\.\d)?s$/.test(l.line));
        expect(progress).toHaveLength(requests - 1);
        // Never more than a pause (at most imagine:maxPollSeconds, jittered) without a line.
        for (let i = 1; i < lines.length; i++) {
            expect(lines[i].at - lines[i - 1].at).toBeLessThanOrEqual(66 * second);
        }
    });
});

describe("learning a style's generation time within the process", () => {
    it("plans a 12-minute style's later videos around the time it took: far fewer requests, as quick to notice", async () => {
        const p = await provider();
        const first = await generate(p, 12);
        const second12 = await generate(p, 12);
        expect(second12.requests).toBeLessThanOrEqual((first.requests * 2) / 3);
        expect(second12.lagMs).toBeLessThanOrEqual(30 * second);
        expect(
            logs.some(
                (l) =>
                    l.line.includes(`video ${second12.id}: first status check in`) &&
                    l.line.includes("kling-1.0-pro took about"),
            ),
        ).toBe(true);
        // Another style is not planned by what kling-1.0-pro took: its first check comes within 15 s.
        const other = await generate(p, 0.5, "fast-svd");
        expect(other.lagMs).toBeLessThanOrEqual(15 * second);
    });

    it("notices a fast style's later videos sooner", async () => {
        const p = await provider();
        const runs = [];
        for (let i = 0; i < 4; i++) runs.push(await generate(p, 1, "fast-svd"));
        for (const later of runs.slice(1)) {
            expect(later.lagMs).toBeLessThanOrEqual(6 * second);
        }
    });

    it("keeps each provider process's learning to itself", async () => {
        await generate(await provider(), 12);
        const fresh = await generate(await provider(), 12);
        expect(
            logs.some(
                (l) => l.line.includes(`video ${fresh.id}: first status check in`) && l.line.includes("took about"),
            ),
        ).toBe(false);
    });
});

describe("resumed and adopted waits", () => {
    it("resumes the wait of a video whose first wait timed out, and notices it soon after it is done", async () => {
        const p = await provider();
        emulator.configure({ processingSeconds: 20 * 60 });
        const inputs = { prompt: "resumed", style: "kling-1.0-pro", timeoutMinutes: 5, __provider: PROVIDER };
        const failure = await createFailure(p, inputs);
        expect(failure.properties.status).toBe("processing");
        const createdAt = Date.parse(String((await p.read(failure.id, failure.properties)).props.createdAt));
        const { outs } = await p.update(failure.id, failure.properties, { ...inputs, timeoutMinutes: 30 });
        expect(outs.status).toBe("finished");
        const lagMs = clock.now() - (createdAt + 20 * minute);
        expect(lagMs).toBeGreaterThanOrEqual(0);
        expect(lagMs).toBeLessThanOrEqual(0.25 * 20 * minute);
    });

    it("plans an adopted video's checks from the vendor's created_at", async () => {
        emulator.configure({ processingSeconds: 3 * 60 });
        const form = new FormData();
        form.append("prompt", "made elsewhere");
        form.append("style", "fast-svd");
        const made = await axios.post(`${emulator.url}/v2/video/text-to-video`, form, {
            headers: { Authorization: `Bearer ${TOKEN}` },
        });
        const madeAt = clock.now();
        clock.advance(2 * minute);
        const before = await statusRequests();
        const { outs } = await (await provider()).create({ adoptVideoId: made.data.id, __provider: PROVIDER });
        expect(outs.status).toBe("finished");
        const lagMs = clock.now() - (madeAt + 3 * minute);
        expect(lagMs).toBeLessThanOrEqual(0.25 * 3 * minute);
        // Two minutes in, the checks are already spaced for a video that old (not from scratch).
        expect((await statusRequests()) - before).toBeLessThanOrEqual(6);
    });
});
