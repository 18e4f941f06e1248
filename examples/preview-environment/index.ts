// Example: the videos of one preview environment, a stack per pull request (see its GitHub Actions workflow).
import * as pulumi from "@pulumi/pulumi";
import * as imagine from "pulumi-imagine-video";

// One stack per pull request (e.g. `pr-123`): the workflow below runs `pulumi up` when the pull
// request opens or changes, and `pulumi destroy` + stack removal when it closes, so the preview
// videos of a closed pull request never stay behind on the vendor's (paid) side.
const config = new pulumi.Config();
// The branch name comes from the workflow's environment (PREVIEW_BRANCH): the pull request's author
// controls it, so it is passed as data, never interpolated into a command.
const branch = config.get("branch") ?? process.env.PREVIEW_BRANCH ?? pulumi.getStack();
const scenes = config.getObject<string[]>("scenes") ?? [
    "A product teaser: a glowing cube rotating above a desk",
    "The same cube unfolding into a city map",
];

const videos = scenes.map((prompt, i) => ({
    name: `scene-${i + 1}`,
    video: new imagine.Video(`scene-${i + 1}`, {
        prompt: `${prompt} (preview of ${branch})`,
        style: config.get("style") ?? "kling-1.0-pro",
        aspectRatio: "16:9",
    }),
}));

// What the workflow's comment lists (`imagine-video preview-comment`), and what `imagine-video download
// --from-outputs` takes the ids from: no link here. The signed links are the secret output `urls`.
export const previews = videos.map(({ name, video }) => ({
    name,
    videoId: video.videoId,
    prompt: video.prompt,
    status: video.status,
    failureReason: video.failureReason,
}));
export const videoIds = videos.map(({ video }) => video.videoId);
export const urls = videos.map(({ video }) => video.videoUrl);
