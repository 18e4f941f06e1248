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
  reply.raw.once("finish", () => setTimeout(() => socket.destroy(), GRACE_MS).unref());
  return reply;
}
