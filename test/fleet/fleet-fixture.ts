/**
 * What the fleet tests share: an emulator and a real redis-server for the file (started before its
 * tests, stopped after), and finished videos seeded with the limit off before it is switched on.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../../emulator";
import { seedVideos } from "../../bench/seed";
import { RunningRedis, startRedisServer } from "../redis-server";

export interface FleetFixture {
    readonly emulator: RunningEmulator;
    readonly redis: RunningRedis;
    /** `n` finished videos made with the limit off; then the limit is on again (with a full bucket). */
    seed(n: number): Promise<string[]>;
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
    };
}
