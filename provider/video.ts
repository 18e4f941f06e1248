/** The `Video` resource a Pulumi program declares, and its `VideoArgs`. */
import * as pulumi from "@pulumi/pulumi";
import { videoProvider } from "./shim";

/** The inputs of a {@link Video}. Set `prompt` and `style` to generate, or `adoptVideoId` to adopt. */
export interface VideoArgs {
    /** What the video shows. Required unless `adoptVideoId` is set; at most 2,500 characters. Changing it replaces the video. */
    prompt?: pulumi.Input<string>;
    /** The Imagine video style, e.g. `kling-1.0-pro` or `fast-svd`. Required unless `adoptVideoId` is set. Changing it replaces the video. */
    style?: pulumi.Input<string>;
    /** `1:1`, `16:9` or `9:16`; the vendor's default when unset. Changing it replaces the video. */
    aspectRatio?: pulumi.Input<string>;
    /** A local JPEG or PNG (at most 10 MiB) to animate: image to video. Relative to the program folder. A change of the file's content replaces the video. */
    imagePath?: pulumi.Input<string>;
    /** Extra form fields sent as they are, for vendor options this package does not model. Changing them replaces the video. */
    extraParams?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Wait for the generation to end during `pulumi up` (default true). Changing it never touches the video. */
    waitForCompletion?: pulumi.Input<boolean>;
    /** How long `pulumi up` waits for the video, in minutes (default 30). Changing it never touches the video. */
    timeoutMinutes?: pulumi.Input<number>;
    /** The id of a video made elsewhere, to adopt it instead of generating one: destroy then deletes it. A number is accepted (as text). Changing it replaces the resource. */
    adoptVideoId?: pulumi.Input<string | number>;
}

/** The resource's identity as the provider records it (absent from videos recorded by the 0.1.0 release). */
export interface VideoIdentity {
    /** The Pulumi organization, when the CLI passes one (absent in state from 0.1 and where the host passes none). */
    organization?: string;
    project: string;
    stack: string;
    /** The parent resource's URN, when the Video has a parent (absent in state from 0.1). */
    parent?: string;
    name: string;
}

/** `pulumi.getOrganization()`, which throws where the host passes no organization (older CLIs, mocks): then none. */
function organization(): string | undefined {
    try {
        return pulumi.getOrganization() || undefined;
    } catch {
        return undefined;
    }
}

/**
 * An AI-generated video of the Imagine API. `pulumi up` starts the generation and waits for it;
 * `pulumi refresh` reads its status; `pulumi destroy`, or removing the resource, deletes it
 * through the vendor's Delete API.
 */
export class Video extends pulumi.dynamic.Resource {
    // `declare`: the SDK sets these outputs in the base constructor; class fields would overwrite them.
    /** The vendor's id of the video. */
    declare public readonly videoId: pulumi.Output<string>;
    /** `processing`, `finished`, `expired` (finished, its files aged out) or `failed`. */
    declare public readonly status: pulumi.Output<string>;
    /** Signed link to the video file (a secret: it grants access, and expires). */
    declare public readonly videoUrl: pulumi.Output<string | undefined>;
    /** Signed link to the thumbnail (a secret). */
    declare public readonly thumbnailUrl: pulumi.Output<string | undefined>;
    /** When the vendor created the video (ISO 8601), when it says. */
    declare public readonly createdAt: pulumi.Output<string | undefined>;
    /** The vendor's reason, for a failed generation. */
    declare public readonly failureReason: pulumi.Output<string | undefined>;
    /** `sha256:<hex>` of the image, for image to video. */
    declare public readonly imageDigest: pulumi.Output<string | undefined>;
    declare public readonly prompt: pulumi.Output<string | undefined>;
    declare public readonly style: pulumi.Output<string | undefined>;
    declare public readonly aspectRatio: pulumi.Output<string | undefined>;
    declare public readonly imagePath: pulumi.Output<string | undefined>;
    declare public readonly adoptVideoId: pulumi.Output<string | undefined>;
    /** The first 12 hex digits of the SHA-256 of the API key that made or adopted the video (never the key): destroy and refresh with another key do not take its 404 as proof that the video is gone. Absent for videos recorded by the 0.1.0 release. */
    declare public readonly keyFingerprint: pulumi.Output<string | undefined>;
    /** The first 12 hex digits of the SHA-256 of the endpoint (imagine:baseUrl's origin and path) that made or adopted the video: destroy and refresh against another endpoint do not take its 404 as proof that the video is gone. Absent for videos recorded before 0.2. */
    declare public readonly endpointFingerprint: pulumi.Output<string | undefined>;
    /** Where this resource lives (organization, project, stack, parent URN, resource name), recorded for deletion receipts and the ledger of accepted generations. */
    declare public readonly identity: pulumi.Output<VideoIdentity>;

    constructor(name: string, args: VideoArgs, opts?: pulumi.CustomResourceOptions) {
        // Whether the resource is protected (its own option, else its parent's, as the SDK resolves it):
        // a protected failed video is not replaced (see diff.ts). Recorded only when set; never a change.
        const protect =
            opts?.protect ?? (opts?.parent as unknown as { __protect?: pulumi.Input<boolean> } | undefined)?.__protect;
        const props = {
            ...args,
            // The provider's methods never see the URN: the resource's identity travels as an input.
            // Not a defining input: it never causes a replacement (see diff.ts).
            // The parent's URN is an Output: it travels as an input and resolves before the provider sees it.
            identity: pulumi.output({
                ...(organization() !== undefined ? { organization: organization() } : {}),
                project: pulumi.getProject(),
                stack: pulumi.getStack(),
                ...(opts?.parent ? { parent: opts.parent.urn } : {}),
                name,
            }) as pulumi.Output<VideoIdentity>,
            videoId: undefined,
            status: undefined,
            videoUrl: undefined,
            thumbnailUrl: undefined,
            createdAt: undefined,
            failureReason: undefined,
            imageDigest: undefined,
            keyFingerprint: undefined,
            endpointFingerprint: undefined,
            ...(protect ? { protected: protect } : {}),
        };
        const secretOutputs = [...(opts?.additionalSecretOutputs ?? []), "videoUrl", "thumbnailUrl"];
        super(videoProvider, name, props, { ...opts, additionalSecretOutputs: secretOutputs }, "imagine", "Video");
    }
}
