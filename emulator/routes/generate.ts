/** POST /v2/video/text-to-video and POST /v2/video/image-to-video. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { closeAfterReply } from "../connection";
import type { EmulatorContext } from "../context";
import { ERRORS, sendError } from "../errors";
import { readGenerationForm, type GenerationForm } from "../generation-form";
import { newVideoId } from "../ids";
import type { NewVideo, Variation } from "../store";

export const CONTENT_REJECTED = "generation failed: content rejected";
export const RANDOM_FAILURE = "generation failed: the model could not render this prompt";

function outcomeFor(ctx: EmulatorContext, prompt: string): Pick<NewVideo, "outcome" | "failMessage"> {
    const marker = ctx.switches.failPromptContains;
    if (marker !== "" && prompt.includes(marker)) return { outcome: "failed", failMessage: CONTENT_REJECTED };
    if (ctx.switches.failureRate > 0 && ctx.random() < ctx.switches.failureRate)
        return { outcome: "failed", failMessage: RANDOM_FAILURE };
    return { outcome: "finished", failMessage: null };
}

function create(ctx: EmulatorContext, owner: string, variation: Variation, form: GenerationForm): string | undefined {
    const id = newVideoId();
    const createdMs = ctx.clock.now();
    let imageFile: string | null = null;
    let bytes = 0;
    if (form.image) {
        imageFile = ctx.files.writeInput(id, form.image.bytes, form.image.kind);
        bytes = form.image.bytes.length;
    }
    const video: NewVideo = {
        id,
        owner,
        variation,
        prompt: form.prompt,
        style: form.style,
        aspectRatio: form.aspectRatio,
        extra: form.extra,
        imageFile,
        createdMs,
        dueMs: createdMs + ctx.switches.processingSeconds * 1000,
        bytes,
        ...outcomeFor(ctx, form.prompt),
    };
    if (!ctx.store.insertCharged(video, ctx.switches.credits)) {
        if (imageFile) ctx.files.remove(id);
        return undefined;
    }
    ctx.lifecycle.poke();
    return id;
}

function handler(ctx: EmulatorContext, variation: Variation) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
        const format = ctx.switches.codeFormat;
        const result = await readGenerationForm(request, variation === "image_to_video", ctx.switches.maxUploadBytes);
        if (!result.ok) {
            if (result.row === ERRORS.tooLarge) closeAfterReply(request, reply);
            return sendError(reply, result.row, result.message, format);
        }
        const owner = request.owner as string;
        const noCredits = () => sendError(reply, ERRORS.noCredits, "not enough credits", format);
        if (ctx.store.creditsUsed(owner) >= ctx.switches.credits) return noCredits();
        const id = create(ctx, owner, variation, result.form);
        if (!id) return noCredits();
        return reply.code(200).send({ id, status: "processing" });
    };
}

export function registerGenerate(app: FastifyInstance, ctx: EmulatorContext): void {
    const config = { vendor: true };
    app.post("/v2/video/text-to-video", { config }, handler(ctx, "text_to_video"));
    app.post("/v2/video/image-to-video", { config }, handler(ctx, "image_to_video"));
}
