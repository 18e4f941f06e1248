/** GET /files/{id}/{video.mp4|thumbnail.png}?expires&signature: the presigned result files (no token). */
import fs from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { EmulatorContext } from "../context";
import { ERRORS, sendError } from "../errors";
import { OUTPUT_NAMES, type OutputName } from "../files";
import { isValidId } from "../ids";

const CONTENT_TYPES: Record<OutputName, string> = { "video.mp4": "video/mp4", "thumbnail.png": "image/png" };

function handler(ctx: EmulatorContext) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
        const format = ctx.switches.codeFormat;
        const { id, name } = request.params as { id: string; name: string };
        const query = request.query as Record<string, unknown>;
        if (!isValidId(id)) return sendError(reply, ERRORS.invalidRequest, "invalid video id", format);
        if (!(OUTPUT_NAMES as readonly string[]).includes(name))
            return sendError(reply, ERRORS.notFound, "file not found", format);
        const refused = ctx.signer.check(id, name, query.expires, query.signature, ctx.clock.now() / 1000);
        if (refused) return sendError(reply, ERRORS.badSignature, refused, format);
        ctx.deletions.applyDue();
        const found = ctx.store.get(id);
        const video = found && ctx.lifecycle.settle(found);
        if (!video || !video.filesReady) return sendError(reply, ERRORS.notFound, "file not found", format);
        const file = ctx.files.pathOf(id, name);
        let size: number;
        try {
            size = fs.statSync(file).size;
        } catch {
            return sendError(reply, ERRORS.notFound, "file not found", format);
        }
        reply.header("content-length", size).type(CONTENT_TYPES[name as OutputName]);
        return reply.send(fs.createReadStream(file));
    };
}

export function registerFiles(app: FastifyInstance, ctx: EmulatorContext): void {
    app.get("/files/:id/:name", handler(ctx));
}
