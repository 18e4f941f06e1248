/**
 * Benchmarks of the fleet budget's fairness, run from bench/scale.ts, all on a real redis-server at
 * 50 requests/minute (emulator strictly paced, burst 1), accelerated as bench/fleet.ts is:
 *
 * - `fleetSkew`: 4 provider instances, one whose clock is `skewSeconds` ahead, deleting 200 videos.
 * - `statusShare`: one instance holds 2,000 queued deletes, another polls 10 videos (each once a
 *   minute, 3 times);
 *   `maxStatusWaitSeconds` is the longest a status read waited.
 * - `fairness`: 2 or 5 identical instances, 40 deletes each; each one's share of the deletes done when
 *   the first had done all of its own.
 */
import { Clock, scaledClock } from "../provider/core/clock";
import {
    destroyAcross,
    figures,
    TOKEN,
    FleetOptions,
    instancesOn,
    limitedEmulator,
    round,
    stackVideos,
    withRedis,
} from "./fleet";
import { seedVideos } from "./seed";

export async function fleetSkew(o: FleetOptions, skewSeconds: number) {
    const videos = o.small ? 20 : 200;
    const processes = 4;
    return withRedis(true, (url) =>
        limitedEmulator(
            o.speed,
            (emulator) => stackVideos(emulator, videos),
            async (emulator, stored) => {
                const clock = scaledClock(o.speed);
                // That instance's clock source is off: every time it reads is skewSeconds ahead.
                const skewed: Clock = { now: () => clock.now() + skewSeconds * 1000, sleep: (ms) => clock.sleep(ms) };
                const instances = [{ clock: skewed }, { clock }, { clock }, { clock }];
                const r = await destroyAcross(emulator, clock, stored, instances, url, o.speed);
                return { skewSeconds, processes, videos, ...figures(r, videos), failures: r.failures };
            },
        ),
    );
}

export async function statusShare(o: FleetOptions) {
    const backlogDeletes = o.small ? 200 : 2000;
    return withRedis(true, (url) =>
        limitedEmulator(
            o.speed,
            (emulator) => seedVideos(emulator.url, TOKEN, 10, "share"),
            async (emulator, read) => {
                const clock = scaledClock(o.speed);
                // The backlog's queue gives up (imagine:queueTimeoutMinutes) some time after the reads are done.
                const { handlers, close } = await instancesOn(
                    emulator,
                    [{ clock, config: { "imagine:queueTimeoutMinutes": "5" } }, { clock }],
                    url,
                    o.speed,
                );
                const gone = Array.from({ length: backlogDeletes }, (_, i) => `gone-${i}`);
                const deletes = Promise.allSettled(gone.map((id) => handlers[0].delete(id, { videoId: id })));
                await clock.sleep(10_000); // the backlog is queued and draining first
                const waits: number[] = [];
                let failures = 0;
                // Polling as a waiting stack does: each video checked once a minute, the videos spread over it.
                await Promise.all(
                    read.map(async (id, i) => {
                        await clock.sleep(i * 6000);
                        for (let k = 0; k < 3; k++) {
                            const start = clock.now();
                            await handlers[1].read(id, { videoId: id }).catch(() => failures++);
                            waits.push(clock.now() - start);
                            await clock.sleep(60_000);
                        }
                    }),
                );
                await deletes;
                await close();
                return {
                    backlogDeletes,
                    statusReads: waits.length,
                    maxStatusWaitSeconds: round(Math.max(...waits) / 1000, 1),
                    failures,
                };
            },
        ),
    );
}

export async function fairness(o: FleetOptions, processes: number) {
    const videos = processes * (o.small ? 10 : 40);
    return withRedis(true, (url) =>
        limitedEmulator(
            o.speed,
            (emulator) => stackVideos(emulator, videos),
            async (emulator, stored) => {
                const r = await destroyAcross(emulator, scaledClock(o.speed), stored, processes, url, o.speed);
                const all = r.doneAtFirstFinish.reduce((a, b) => a + b, 0);
                const shares = r.doneAtFirstFinish.map((d) => d / all);
                return { processes, minShare: round(Math.min(...shares), 3), maxShare: round(Math.max(...shares), 3) };
            },
        ),
    );
}
