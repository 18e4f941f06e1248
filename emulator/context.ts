/** Everything a route needs, built once by startEmulator. `switches` is mutable at run time. */
import type { TokenCheck } from "./auth";
import type { EmulatedClock } from "./clock";
import type { Deletions } from "./deletions";
import type { VideoFiles } from "./files";
import type { Lifecycle } from "./lifecycle";
import type { Switches } from "./options";
import type { RateLimiter } from "./rate-limit";
import type { RequestStats } from "./request-stats";
import type { UrlSigner } from "./signing";
import type { Store } from "./store";

export interface EmulatorContext {
    switches: Switches;
    store: Store;
    files: VideoFiles;
    clock: EmulatedClock;
    signer: UrlSigner;
    tokens: TokenCheck;
    rateLimiter: RateLimiter;
    requests: RequestStats;
    lifecycle: Lifecycle;
    /** accepted deletes: applied at once, dropped or delayed (dropFirstDelete, deleteLagSeconds) */
    deletions: Deletions;
    /** The dice of faults and generation failures (seeded by the `seed` switch). */
    random: () => number;
    /** Timers of requests held by the hang fault; stop() clears them. */
    hangTimers: Set<NodeJS.Timeout>;
    /** http://127.0.0.1:PORT once listening. */
    baseUrl: string;
}

declare module "fastify" {
    interface FastifyContextConfig {
        /** true on routes of the vendor API (faults, latency, auth and rate limit apply) */
        vendor?: boolean;
    }
    interface FastifyRequest {
        /** the key's hash, set by the auth hook on vendor routes */
        owner?: string;
        /** set when a fault dropped the connection, so it is counted as such */
        dropped?: "reset" | "hang";
    }
}
