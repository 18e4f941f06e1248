// Example: animates a local image; a change of the image's content replaces the video.
import * as pulumi from "@pulumi/pulumi";
import * as imagine from "pulumi-imagine-video";

const config = new pulumi.Config();

// The image's content is tracked by digest: edit the file and the next `pulumi up` replaces the video.
const animated = new imagine.Video("animated-still", {
    prompt: config.get("prompt") ?? "The clouds drift slowly and the water ripples",
    style: config.get("style") ?? "kling-1.0-pro",
    imagePath: config.get("imagePath") ?? "still.png",
    timeoutMinutes: 45,
});

export const videoId = animated.videoId;
export const imageDigest = animated.imageDigest;
export const url = animated.videoUrl;
