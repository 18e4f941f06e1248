/**
 * The two documented status payload shapes.
 * uuid:   video.status processing|finished|failed, url.generation / url.thumbnail strings (null until finished).
 * legacy: no video.status; video.code 1 = processing, 2 = finished, 3 = failed; url arrays (empty until finished).
 * A failed video carries video.message in both shapes.
 */
import type { EmulatorContext } from "./context";
import type { VideoState } from "./lifecycle";
import type { VideoRow } from "./store";

export const LEGACY_CODES: Record<VideoState, number> = { processing: 1, finished: 2, failed: 3 };

function signedUrls(ctx: EmulatorContext, video: VideoRow): { generation: string; thumbnail: string } {
    const expires = ctx.clock.now() / 1000 + ctx.switches.urlTtlSeconds;
    return {
        generation: ctx.baseUrl + ctx.signer.sign(video.id, "video.mp4", expires),
        thumbnail: ctx.baseUrl + ctx.signer.sign(video.id, "thumbnail.png", expires),
    };
}

export function statusPayload(ctx: EmulatorContext, video: VideoRow, state: VideoState): Record<string, unknown> {
    const urls = state === "finished" ? signedUrls(ctx, video) : undefined;
    const createdAt = new Date(video.createdMs).toISOString();
    const failure = state === "failed" ? { message: video.failMessage ?? "generation failed" } : {};
    if (ctx.switches.statusShape === "legacy") {
        return {
            status: "success",
            video: {
                id: video.seq,
                code: LEGACY_CODES[state],
                created_at: createdAt,
                settings: { prompt: video.prompt, style_id: video.style, variation: video.variation },
                url: { generation: urls ? [urls.generation] : [], thumbnail: urls ? [urls.thumbnail] : [] },
                ...failure,
            },
        };
    }
    return {
        status: "success",
        video: {
            uuid: video.id,
            created_at: createdAt,
            status: state,
            url: { generation: urls?.generation ?? null, thumbnail: urls?.thumbnail ?? null },
            ...failure,
        },
    };
}
