/**
 * What the fleet tests share: an emulator and a real redis-server for the file (started before its
 * tests, stopped after, with any worker a failed test left running), and finished videos seeded
 * with the limit off before it is switched on.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../../emulator";
import axios from "axios";
import { pool } from "../../bench/pool";
import { seedVideos } from "../../bench/seed";
import { RunningRedis, startRedisServer } from "../redis-server";
import { stopWorkers } from "./spawn-worker";

export interface FleetFixture {
    readonly emulator: RunningEmulator;
    readonly redis: RunningRedis;
    /** `n` finished videos made with the limit off; then the limit is on again (with a full bucket). */
    seed(n: number): Promise<string[]>;
    /**
     * As `seed`, with each video's outputs as a stack holds them after `up` (its file link among
     * them, read with the limit off): a verified delete is then one API request, its proof the link's 404.
     */
    seedWithLinks(n: number): Promise<{ ids: string[]; outputs: Record<string, Record<string, unknown>> }>;
}

/** Registers the file's beforeAll/afterAll; the emulator limits `token` to `limit` a minute with `burst`. */
export function fleetFixture(token: string, limit: number, burst: number): FleetFixture {
    let emulator: RunningEmulator | undefined;
    let redis: RunningRedis | undefined;
    let dataDir = "";
    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-fleet-"));
        emulator = await startEmulator({ dataDir, tokens: [token], processingSeconds: 0, credits: 100_000 });
        redis = await startRedisServer();
    });
    afterAll(async () => {
        await stopWorkers();
        await emulator?.stop();
        await redis?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });
    return {
        get emulator() {
            return emulator!;
        },
        get redis() {
            return redis!;
        },
        async seed(n: number) {
            emulator!.configure({ rateLimitPerMinute: 0 });
            const ids = await seedVideos(emulator!.url, token, n, "fleet");
            emulator!.configure({ rateLimitPerMinute: limit, rateLimitBurst: burst });
            return ids;
        },
        async seedWithLinks(n: number) {
            emulator!.configure({ rateLimitPerMinute: 0 });
            const ids = await seedVideos(emulator!.url, token, n, "fleet");
            // As bench/destroy-verification.ts's withFileLinks (not imported: it loads the whole provider).
            const outputs: Record<string, Record<string, unknown>> = {};
            await pool(ids, 16, async (id) => {
                const r = await axios.get<{ video: { url: { generation: string } } }>(
                    `${emulator!.url}/v2/video/${id}/status`,
                    { headers: { Authorization: `Bearer ${token}` } },
                );
                outputs[id] = { videoId: id, status: "finished", videoUrl: r.data.video.url.generation };
            });
            if (Object.keys(outputs).length !== n)
                throw new Error(`only ${Object.keys(outputs).length} of ${n} links read`);
            emulator!.configure({ rateLimitPerMinute: limit, rateLimitBurst: burst });
            return { ids, outputs };
        },
    };
}
