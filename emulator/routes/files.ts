/**
 * GET /files/{id}/{video.mp4|thumbnail.png}?expires&signature: the presigned result files (no token),
 * served as object storage serves them: `Range` honoured (206 with Content-Range, 416 when unsatisfiable).
 */
import fs from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { EmulatorContext } from "../context";
import { readRange } from "../byte-range";
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
        reply.header("accept-ranges", "bytes").type(CONTENT_TYPES[name as OutputName]);
        const range = readRange(request.headers.range, size);
        if (range.kind === "unsatisfiable") {
            return reply.code(416).header("content-range", `bytes */${size}`).send();
        }
        if (range.kind === "part") {
            reply.code(206).header("content-range", `bytes ${range.start}-${range.end}/${size}`);
            reply.header("content-length", range.end - range.start + 1);
            return reply.send(fs.createReadStream(file, { start: range.start, end: range.end }));
        }
        reply.header("content-length", size);
        return reply.send(fs.createReadStream(file));
    };
}

export function registerFiles(app: FastifyInstance, ctx: EmulatorContext): void {
    app.get("/files/:id/:name", handler(ctx));
}
