// Example: one text-to-video resource; `pulumi up` generates it, `pulumi destroy` deletes it.
import * as pulumi from "@pulumi/pulumi";
import * as imagine from "pulumi-imagine-video";

const config = new pulumi.Config();

// `pulumi up` starts the generation and waits for it; `pulumi destroy` deletes it on the vendor's side.
const intro = new imagine.Video("intro", {
    prompt: config.get("prompt") ?? "A futuristic cityscape at night with neon lights",
    style: config.get("style") ?? "kling-1.0-pro",
    aspectRatio: "16:9",
});

export const videoId = intro.videoId;
export const status = intro.status;
/** A signed link: Pulumi keeps it secret (`pulumi stack output url --show-secrets`). */
export const url = intro.videoUrl;
