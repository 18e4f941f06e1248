/** /__emulator/health, /__emulator/stats and /__emulator/config (GET, POST): no token, not counted as vendor traffic. */
import type { FastifyInstance } from "fastify";
import type { EmulatorContext } from "../context";
import { ERRORS, sendError } from "../errors";
import { SwitchError, type Switches } from "../options";

export interface AdminHooks {
    stats(): unknown;
    configure(partial: Partial<Switches>): Switches;
}

export function registerAdmin(app: FastifyInstance, ctx: EmulatorContext, hooks: AdminHooks): void {
    app.get("/__emulator/health", async () => ({ status: "ok" }));
    app.get("/__emulator/stats", async () => hooks.stats());
    app.get("/__emulator/config", async () => ctx.switches);
    app.post("/__emulator/config", async (request, reply) => {
        try {
            return hooks.configure(request.body ?? {});
        } catch (err) {
            if (err instanceof SwitchError)
                return sendError(reply, ERRORS.invalidRequest, err.message, ctx.switches.codeFormat);
            throw err;
        }
    });
}
