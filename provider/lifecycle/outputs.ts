/** A video's inputs and outputs as Pulumi stores them: the input keys, the outputs of a status, and the timeout. */
import { VideoStatus } from "../api/status";
import { DEFAULT_TIMEOUT_MINUTES } from "../inputs/inputs";
import { Props } from "./context";

/** The names of the resource's inputs, as stored among its outputs too. */
export const INPUT_KEYS = [
    "prompt",
    "style",
    "aspectRatio",
    "imagePath",
    "extraParams",
    "waitForCompletion",
    "timeoutMinutes",
    "adoptVideoId",
    "imageDigest",
    "identity",
    "protected",
] as const;
export function statusOutputs(id: string, s: VideoStatus): Props {
    return dropUndefined({
        videoId: id,
        status: s.state,
        videoUrl: s.videoUrl,
        thumbnailUrl: s.thumbnailUrl,
        createdAt: s.createdAt,
        failureReason: s.state === "failed" ? (s.message ?? "no reason given") : undefined,
    });
}

export function timeoutMs(inputs: Props): number {
    const minutes = typeof inputs.timeoutMinutes === "number" ? inputs.timeoutMinutes : DEFAULT_TIMEOUT_MINUTES;
    return minutes * 60_000;
}

export function pickInputs(props: Props): Props {
    const out: Props = {};
    for (const k of INPUT_KEYS) {
        if (props[k] !== undefined && props[k] !== null) {
            out[k] = props[k];
        }
    }
    return out;
}

export function withoutInputs(props: Props): Props {
    const out: Props = { ...props };
    for (const k of INPUT_KEYS) {
        delete out[k];
    }
    delete out.__provider;
    return out;
}

/** Outputs that a refresh recomputes from the vendor's answer (a URL can disappear, say). */
export const VOLATILE = ["status", "videoUrl", "thumbnailUrl", "createdAt", "failureReason"] as const;

export function withoutProvider(props: Props): Props {
    const out = { ...props };
    delete out.__provider;
    return out;
}

function dropUndefined(o: Props): Props {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
