/** Video status at the three documented URLs, by GET and POST; a disabled form answers the plain route 404. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { EmulatorContext } from "../context";
import type { StatusRouteName } from "../options";
import { statusPayload } from "../status-payload";
import { ownVideo } from "./video-lookup";

export const STATUS_ROUTES: Record<StatusRouteName, string> = {
    current: "/v2/video/:id/status",
    deprecated: "/v2/video/status/:id",
    assets: "/v2/assets/:id/status",
};

function handler(ctx: EmulatorContext, name: StatusRouteName) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
        if (ctx.switches.disableStatusRoutes.includes(name)) return reply.callNotFound();
        const found = ownVideo(ctx, request, reply);
        if (!found) return reply;
        const video = ctx.lifecycle.settle(found);
        return reply.code(200).send(statusPayload(ctx, video, ctx.lifecycle.stateOf(video)));
    };
}

export function registerStatus(app: FastifyInstance, ctx: EmulatorContext): void {
    for (const [name, url] of Object.entries(STATUS_ROUTES) as [StatusRouteName, string][]) {
        app.route({ method: ["GET", "POST"], url, config: { vendor: true }, handler: handler(ctx, name) });
    }
}
