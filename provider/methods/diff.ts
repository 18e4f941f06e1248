/** `diff`: which input changes replace a video, which update it in place, and which are no change. */
import { UNKNOWN } from "../inputs/inputs";

/** Inputs that define the video: a change to any of them means a new video (replace). */
export const REPLACE_KEYS = ["prompt", "style", "aspectRatio", "imageDigest", "extraParams", "adoptVideoId"] as const;
/** Inputs that only steer the provider: a change updates in place, without a vendor call. */
export const UPDATE_KEYS = ["imagePath", "waitForCompletion", "timeoutMinutes"] as const;

export interface VideoDiff {
    changes: boolean;
    replaces: string[];
    deleteBeforeReplace: boolean;
    /** A failed generation that is not replaced because the resource is protected (say so in the log). */
    keptFailed?: boolean;
}

/**
 * Compares the stored outputs with the new (checked) inputs. A generation the vendor reported as
 * failed is replaced on the next `up`, so re-running up retries it; unless the resource is
 * protected (input `protected`, set by Video from its options): the engine would refuse that
 * replacement and fail every `up`, so the failed video is kept as it is. Never calls the vendor.
 * Inputs that only record things (`identity`, `protected`) and outputs such as `keyFingerprint` never count.
 */
export function diffVideo(olds: Record<string, unknown>, news: Record<string, unknown>): VideoDiff {
    const replaces: string[] = REPLACE_KEYS.filter((k) => !same(olds[k], news[k]));
    let keptFailed = false;
    if (olds.status === "failed" && olds.adoptVideoId === undefined && replaces.length === 0) {
        if (news.protected === true) {
            keptFailed = true;
        } else {
            replaces.push("status");
        }
    }
    const updates = UPDATE_KEYS.filter((k) => !same(olds[k], news[k]));
    return {
        changes: replaces.length > 0 || updates.length > 0,
        replaces,
        deleteBeforeReplace: false,
        ...(keptFailed ? { keptFailed } : {}),
    };
}

function same(a: unknown, b: unknown): boolean {
    if (a === UNKNOWN || b === UNKNOWN) {
        return false;
    }
    return canonical(a) === canonical(b);
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` compare equal; undefined and null are "unset". */
function canonical(v: unknown): string {
    if (v === undefined || v === null) {
        return "null";
    }
    if (typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        return (
            "{" +
            Object.keys(o)
                .sort()
                .map((k) => JSON.stringify(k) + ":" + canonical(o[k]))
                .join(",") +
            "}"
        );
    }
    return JSON.stringify(v);
}
