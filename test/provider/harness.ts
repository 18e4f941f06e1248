/** Shared by the provider tests: an emulator on a free port and provider handlers configured against it. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator, RunningEmulator, EmulatorOptions } from "imagine-api-emulator";
import { createHandlers, HandlerDependencies, VideoHandlers } from "../../provider/methods/handlers";

export const TOKEN = "vk-canaryTOKEN0123456789abcdefghijklmnopqrstuvwxyzAB";
export const OTHER_TOKEN = "vk-otherKEY9876543210zyxwvutsrqponmlkjihgfedcbaZYX";
/** A stand-in for the serialized provider that the host passes along with every input. */
export const PROVIDER = "exports.handler = __f0; /* stand-in */";

/** Emulator timing for provider tests: a 12-minute generation takes 0.5 s. */
export const FAST: Partial<EmulatorOptions> = { processingSeconds: 720, clockSpeed: 1440 };

export interface Harness {
    emulator: RunningEmulator;
    dataDir: string;
    logs: string[];
    handlers(config?: Record<string, string>, deps?: HandlerDependencies): Promise<VideoHandlers>;
    stop(): Promise<void>;
}

/** Starts an emulator on a free port and builds configured provider handlers against it. */
export async function startHarness(options: Partial<EmulatorOptions> = {}): Promise<Harness> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-provider-"));
    const emulator = await startEmulator({ dataDir, tokens: [TOKEN, OTHER_TOKEN], ...FAST, ...options });
    const logs: string[] = [];
    return {
        emulator,
        dataDir,
        logs,
        async handlers(config = {}, deps = {}) {
            const h = createHandlers({ log: (m) => logs.push(m), env: {}, cwd: () => dataDir, ...deps });
            const all: Record<string, string> = {
                "imagine:apiToken": TOKEN,
                "imagine:baseUrl": emulator.url,
                // The emulator makes a 12-minute video in 0.5 s: expect it then, and allow the requests.
                "imagine:expectedMinutes": "0.006",
                "imagine:requestsPerMinute": "60000",
                "imagine:minPollSeconds": "0.05",
                "imagine:maxPollSeconds": "0.2",
                "imagine:deleteTimeoutMinutes": "0.5",
                ...config,
            };
            await h.configure({ config: { get: (k: string) => all[k] } });
            return h;
        },
        async stop() {
            await emulator.stop();
            fs.rmSync(dataDir, { recursive: true, force: true });
        },
    };
}

/** Handlers against any vendor at `url` (a purpose-built one, say), with fast polling and retries. */
export async function handlersFor(
    url: string,
    logs: string[] = [],
    config: Record<string, string> = {},
): Promise<VideoHandlers> {
    const h = createHandlers({
        log: (m) => logs.push(m),
        env: {},
        cwd: () => process.cwd(),
        backoff: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    const all: Record<string, string> = {
        "imagine:apiToken": TOKEN,
        "imagine:baseUrl": url,
        "imagine:expectedMinutes": "0.001",
        "imagine:requestsPerMinute": "60000",
        "imagine:minPollSeconds": "0.02",
        "imagine:maxPollSeconds": "0.05",
        "imagine:deleteTimeoutMinutes": "0.05",
        ...config,
    };
    await h.configure({ config: { get: (k: string) => all[k] } });
    return h;
}

/** Runs `create` and returns the partial-failure error it throws (fails the test if it does not). */
export async function createFailure(
    h: VideoHandlers,
    inputs: Record<string, unknown>,
): Promise<{ message: string; id: string; properties: Record<string, unknown>; reasons: string[] }> {
    try {
        await h.create(inputs);
    } catch (e) {
        return e as { message: string; id: string; properties: Record<string, unknown>; reasons: string[] };
    }
    throw new Error("create was expected to fail");
}

/** Sum of requests the emulator answered with `status` on routes matching `route`. */
export function countRequests(
    stats: { requests: Record<string, Record<string, number>> },
    route: RegExp,
    status?: string,
): number {
    let n = 0;
    for (const [r, byStatus] of Object.entries(stats.requests)) {
        if (!route.test(r)) continue;
        for (const [s, c] of Object.entries(byStatus)) {
            if (status === undefined || s === status) n += c;
        }
    }
    return n;
}
