/** `update`: new waiting options kept, and the wait resumed for a video still processing. */
import { OperationContext, Props } from "./context";
import { pickInputs, timeoutMs, withoutInputs } from "./outputs";
import { finish, startedLongAgo } from "./wait";

/** `pulumi up` with changed waiting options, or a retry of a video whose wait failed earlier. */
export async function updateVideo(
    ctx: OperationContext,
    id: string,
    olds: Props,
    news: Props,
): Promise<{ outs: Props }> {
    const deadline = ctx.clock.now() + timeoutMs(news);
    const outs: Props = { ...withoutInputs(olds), ...pickInputs(news) };
    if (olds.status !== "processing" || news.waitForCompletion === false) {
        return { outs };
    }
    return { outs: await finish(ctx, id, outs, news, deadline, startedLongAgo(ctx, olds.createdAt)) };
}
