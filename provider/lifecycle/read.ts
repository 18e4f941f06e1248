/** `read` (refresh): the vendor's view of a video, with signed links kept while valid; a video gone leaves the stack. */
import { keepValidLinks } from "../api/signed-links";
import { VideoStatus } from "../api/status";
import { ImagineVideoNotFoundError } from "../core/errors";
import { OperationContext, otherEndpoint, otherKey, Props } from "./context";
import { pickInputs, statusOutputs, VOLATILE, withoutProvider } from "./outputs";

/**
 * `pulumi refresh`: the vendor's view of the video; an empty id when it is gone. A 404 seen with
 * another key or at another endpoint than the ones that made the video proves nothing: the video is kept as it is. Stored
 * file links are kept while valid, so an unchanged video refreshes without a change.
 */
export async function readVideo(
    ctx: OperationContext,
    id: string,
    props: Props,
): Promise<{ id: string; props: Props; inputs?: Props }> {
    const deadline = ctx.clock.now() + ctx.settings.deleteTimeoutMs;
    let status: VideoStatus;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (e) {
        if (e instanceof ImagineVideoNotFoundError) {
            const other = otherKey(ctx, props) ?? otherEndpoint(ctx, props);
            if (other) {
                ctx.log(
                    `video ${id}: the Imagine API says it does not exist, but ${other}; kept in the stack unchanged`,
                );
                return { id, props: withoutProvider(props), inputs: pickInputs(props) };
            }
            ctx.log(`video ${id} no longer exists on the vendor's side`);
            return { id: "", props: {} };
        }
        throw e;
    }
    const prior = props.status;
    if (
        status.unknownWord !== undefined &&
        status.state === "processing" &&
        typeof prior === "string" &&
        prior !== "processing"
    ) {
        // A word this provider does not know decides nothing: the video keeps what it was (a finished
        // video is never turned into a running or failed one, so nothing replaces it on its own).
        ctx.log(
            `video ${id}: the vendor's status word "${status.unknownWord}" is not one this provider knows; the video stays ${prior}`,
        );
        return { id, props: withoutProvider(props), inputs: pickInputs(props) };
    }
    const fresh = statusOutputs(id, status);
    const links = keepValidLinks(props, fresh, ctx.clock.now());
    const outs = withoutProvider(props);
    // Keys keep their places, so a refresh that changes nothing writes the same outputs.
    for (const k of VOLATILE) {
        const v = k === "videoUrl" || k === "thumbnailUrl" ? links[k] : fresh[k];
        if (v === undefined) {
            delete outs[k];
        } else {
            outs[k] = v;
        }
    }
    return { id, props: outs, inputs: pickInputs(props) };
}
