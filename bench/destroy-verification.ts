/**
 * Benchmark scenario `destroyVerification`: what proving deletes costs. The `destroy` scenario's
 * deletes (16 in flight, emulator at 600/min with 20 ms latency, budget 600/min) run three times on
 * fresh videos, with imagine:verifyDeletes `off`, `file` (the default) and `status`, and the
 * figures say how many API and storage requests each video took and how much longer destroy ran.
 * Also exports `withFileLinks`, so `destroy` deletes with the outputs a real state holds.
 */
import axios from "axios";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "../emulator";
import { systemClock } from "../provider/core/clock";
import { createHandlers } from "../provider/methods/handlers";
import { pool } from "./pool";
import { seedVideos } from "./seed";

const TOKEN = "vk-benchVERIFY0123456789abcdefghijklmnopqrstuvwxyzA";
type Requests = Record<string, Record<string, number>>;

/** Each video's outputs as a state holds them after `up` (the signed file link among them), read from its status. */
export async function withFileLinks(
    url: string,
    token: string,
    ids: string[],
): Promise<{ id: string; props: Record<string, unknown> }[]> {
    const out: { id: string; props: Record<string, unknown> }[] = [];
    await pool(ids, 16, async (id) => {
        const r = await axios.get(`${url}/v2/video/${id}/status`, { headers: { Authorization: `Bearer ${token}` } });
        out.push({ id, props: { videoId: id, status: "finished", videoUrl: r.data.video.url.generation } });
    });
    return out;
}

const sum = (requests: Requests, route: RegExp) =>
    Object.entries(requests)
        .filter(([r]) => route.test(r))
        .reduce((n, [, by]) => n + Object.values(by).reduce((a, b) => a + b, 0), 0);

/** One destroy of `n` videos with the given verification mode. */
async function run(n: number, mode: "off" | "file" | "status") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-bench-verify-"));
    const emulator = await startEmulator({
        dataDir: path.join(dir, "data"),
        tokens: [TOKEN],
        processingSeconds: 0,
        credits: 100_000,
    });
    try {
        const ids = await seedVideos(emulator.url, TOKEN, n, "verify");
        const videos = await withFileLinks(emulator.url, TOKEN, ids);
        emulator.configure({ rateLimitPerMinute: 600, rateLimitBurst: 10, latencyMs: 20 });
        const h = createHandlers({ clock: systemClock, log: () => undefined, env: {} });
        const config: Record<string, string> = {
            "imagine:apiToken": TOKEN,
            "imagine:baseUrl": emulator.url,
            "imagine:requestsPerMinute": "600",
            "imagine:deleteTimeoutMinutes": "10",
            "imagine:verifyDeletes": mode,
        };
        await h.configure({ config: { get: (k: string) => config[k] } });
        const before = (await emulator.stats()).requests;
        const start = Date.now();
        const failures = await pool(videos, 16, (v) => h.delete(v.id, v.props));
        const seconds = (Date.now() - start) / 1000;
        const after = await emulator.stats();
        const delta = (route: RegExp) => sum(after.requests, route) - sum(before, route);
        return {
            seconds,
            failures,
            api: delta(/\/v2\//) / n,
            storage: delta(/\/files\//) / n,
            left: after.videosStored,
        };
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The `destroyVerification` figures. */
export async function destroyVerification(small: boolean): Promise<Record<string, number>> {
    const n = small ? 20 : 200;
    const off = await run(n, "off");
    const file = await run(n, "file");
    const status = await run(n, "status");
    return {
        videos: n,
        inFlight: 16,
        offWallSeconds: round(off.seconds),
        fileWallSeconds: round(file.seconds),
        statusWallSeconds: round(status.seconds),
        /** What the default verification adds to a destroy, in seconds and in percent. */
        fileExtraSeconds: round(file.seconds - off.seconds),
        fileExtraPercent: round(((file.seconds - off.seconds) / off.seconds) * 100, 1),
        statusExtraPercent: round(((status.seconds - off.seconds) / off.seconds) * 100, 1),
        offApiRequestsPerVideo: round(off.api),
        fileApiRequestsPerVideo: round(file.api),
        fileStorageRequestsPerVideo: round(file.storage),
        statusApiRequestsPerVideo: round(status.api),
        failures: off.failures + file.failures + status.failures,
        videosLeft: off.left + file.left + status.left,
    };
}
