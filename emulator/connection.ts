/**
 * For a refused upload: answer with `Connection: close`, then drop the socket shortly after the answer
 * is out, so the rest of the upload is never read into memory or onto disk. The short grace lets the
 * client read the answer before the connection goes.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

const GRACE_MS = 500;

export function closeAfterReply(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    reply.header("connection", "close");
    const socket = request.raw.socket;
    // With `Connection: close` node destroys the socket as soon as the answer is written; with the
    // upload still arriving that is a TCP reset, which can reach the client before it has read the
    // answer (it then sees EPIPE/ECONNRESET instead of the 413). Send only our FIN then, stop reading
    // (the request's small buffer fills and node stops reading the socket), and drop it after the grace.
    socket.destroySoon = function (this: typeof socket) {
        this.end();
    };
    reply.raw.once("finish", () => {
        request.raw.unpipe();
        request.raw.pause();
        setTimeout(() => socket.destroy(), GRACE_MS).unref();
    });
    return reply;
}
