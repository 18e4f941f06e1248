/** Delete at /v2/video/delete/{id} by DELETE and POST (each can be disallowed: 405). Removes the video and its files (see deletions.ts for when). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { EmulatorContext } from "../context";
import { ERRORS, sendError } from "../errors";
import type { DeleteMethod } from "../options";
import { ownVideo } from "./video-lookup";

function handler(ctx: EmulatorContext) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
        const s = ctx.switches;
        if (!s.deleteMethods.includes(request.method as DeleteMethod)) {
            reply.header("allow", s.deleteMethods.join(", "));
            return sendError(
                reply,
                ERRORS.methodNotAllowed,
                `use ${s.deleteMethods.join(" or ")} to delete a video`,
                s.codeFormat,
            );
        }
        const video = ownVideo(ctx, request, reply);
        if (!video) return reply;
        if (ctx.lifecycle.stateOf(video) === "processing" && s.deleteWhileProcessing === "reject") {
            return sendError(
                reply,
                ERRORS.stillProcessing,
                "the video is still processing; delete it once it has finished or failed",
                s.codeFormat,
            );
        }
        // Acknowledged in every case; dropFirstDelete and deleteLagSeconds decide when (if) it takes effect.
        ctx.deletions.request(video.id, s);
        return reply.code(200).send({ message: "video deleted", status: "success" });
    };
}

export function registerDelete(app: FastifyInstance, ctx: EmulatorContext): void {
    app.route({
        method: ["DELETE", "POST"],
        url: "/v2/video/delete/:id",
        config: { vendor: true },
        handler: handler(ctx),
    });
}
