/** Finds a caller's own video by the :id param: 400 for an invalid id, 404 (1104) for unknown or foreign ids. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { EmulatorContext } from "../context";
import { ERRORS, sendError } from "../errors";
import { isValidId } from "../ids";
import type { VideoRow } from "../store";

export function ownVideo(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): VideoRow | undefined {
    const format = ctx.switches.codeFormat;
    const id = (request.params as { id?: unknown }).id;
    if (!isValidId(id)) {
        sendError(reply, ERRORS.invalidRequest, "invalid video id", format);
        return undefined;
    }
    ctx.deletions.applyDue();
    const video = ctx.store.get(id);
    // Another key's video is reported exactly like an unknown one.
    if (!video || video.owner !== request.owner) {
        sendError(reply, ERRORS.notFound, "video not found", format);
        return undefined;
    }
    return video;
}
