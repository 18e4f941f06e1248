/** `create`: a new generation, or the adoption of a video (named by `adoptVideoId`, or found in the ledger), then the wait. */
import * as path from "path";
import { VideoStatus } from "../api/status";
import { ImagineVideoNotFoundError } from "../core/errors";
import { ImageFile } from "../inputs/image-file";
import { definingDigest, identityOf as ledgerKeyOf, Ledger, LedgerEntry, LedgerKey } from "../ledger/ledger";
import { fingerprints, OperationContext, Props } from "./context";
import { pickInputs, statusOutputs, timeoutMs } from "./outputs";
import { sweepLedger } from "./sweep";
import { failedGeneration, finish, startedLongAgo } from "./wait";

/** `pulumi up` for a new resource: generate (or adopt), then wait unless told not to. */
export async function createVideo(ctx: OperationContext, inputs: Props): Promise<{ id: string; outs: Props }> {
    const start = ctx.clock.now();
    const deadline = start + timeoutMs(inputs);
    const base = pickInputs(inputs);

    // The key and endpoint that make (or adopt) the video, by fingerprint: a later 404 from another proves nothing.
    const recordedWith = fingerprints(ctx);
    if (typeof inputs.adoptVideoId === "string" || typeof inputs.adoptVideoId === "number") {
        const id = String(inputs.adoptVideoId);
        let status: VideoStatus;
        try {
            status = await ctx.client.getStatus(id, deadline);
        } catch (e) {
            if (e instanceof ImagineVideoNotFoundError) {
                throw new ImagineVideoNotFoundError(
                    `adoptVideoId: the Imagine API knows no video "${id}" for this API key. Check the id, and that ` +
                        "imagine:apiToken is the key that created it.",
                    { httpStatus: e.httpStatus, vendorCode: e.vendorCode, operation: e.operation },
                );
            }
            throw e;
        }
        ctx.log(`adopted video ${id} (${status.state})`);
        const outs = { ...base, ...statusOutputs(id, status), ...recordedWith };
        // Shown to the engine now: entries of this id under any identity (a ledger video adopted under a
        // new name) are handed, so re-creating the old name neither adopts nor sweeps it.
        await ctx.ledger?.handed(id);
        // An adopted video is recorded as it is, failed or not; only a running one is waited for.
        return {
            id,
            outs:
                status.state === "processing"
                    ? await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx, status.createdAt))
                    : outs,
        };
    }

    const ledger = ctx.ledger;
    const key = ledger ? ledgerKeyOf(inputs.identity) : undefined;
    if (!ledger || !key) {
        return generate(ctx, inputs, base, deadline, start);
    }
    const digest = definingDigest(inputs);
    const entries = await ledger.find(key);
    // Left by an interrupted create with other inputs (the program changed since): in no stack, so deleted.
    const sweep = sweepLedger(
        ctx,
        ledger,
        key,
        entries.filter((e) => e.state === "accepted" && e.digest !== digest),
    );
    const same = entries.filter((x) => x.state === "accepted" && x.digest === digest);
    let duplicates: Promise<void> = Promise.resolve();
    try {
        for (const [i, e] of same.entries()) {
            const adopted = await adoptFromLedger(ctx, ledger, key, e, base, inputs, deadline);
            if (adopted) {
                // Older entries of the same inputs (several interrupted ups in a row) are duplicates nobody holds.
                duplicates = sweepLedger(ctx, ledger, key, same.slice(i + 1));
                return adopted;
            }
        }
        return await generate(ctx, inputs, base, deadline, start, { ledger, key, digest });
    } finally {
        await sweep;
        await duplicates;
    }
}

/** A new generation; with a ledger, its id is recorded the moment the vendor accepts it. */
async function generate(
    ctx: OperationContext,
    inputs: Props,
    base: Props,
    deadline: number,
    start: number,
    record?: { ledger: Ledger; key: LedgerKey; digest: string },
): Promise<{ id: string; outs: Props }> {
    const image =
        typeof inputs.imagePath === "string" ? imageFile(ctx.cwd, inputs.imagePath, inputs.imageDigest) : undefined;
    const { id } = await ctx.client.createVideo(
        {
            prompt: inputs.prompt as string,
            style: inputs.style as string,
            aspectRatio: inputs.aspectRatio as string | undefined,
            extraParams: inputs.extraParams as Record<string, string> | undefined,
            image,
        },
        deadline,
    );
    // From here on the vendor holds a video: every failure must carry its id back to Pulumi, and
    // until create returns, only the ledger knows it.
    await record?.ledger.accepted(record.key, id, record.digest);
    ctx.log(`video ${id}: generation started (${String(inputs.style)})`);
    const accepted: Props = {
        ...base,
        videoId: id,
        status: "processing",
        ...fingerprints(ctx),
    };
    // The vendor started the generation before it answered: plan the checks from the answer (an
    // image upload can take seconds), so they never come later than the schedule says.
    return handOver(record, id, async () => ({
        id,
        outs: await finish(ctx, id, accepted, inputs, deadline, ctx.clock.now(), true),
    }));
}

/**
 * Resumes a video an interrupted create had started with the same inputs, if the vendor still has it;
 * undefined (and the entry dropped) when the vendor no longer knows it.
 */
async function adoptFromLedger(
    ctx: OperationContext,
    ledger: Ledger,
    key: LedgerKey,
    e: LedgerEntry,
    base: Props,
    inputs: Props,
    deadline: number,
): Promise<{ id: string; outs: Props } | undefined> {
    const id = e.videoId;
    await ledger.claim(e);
    let status: VideoStatus | undefined;
    try {
        status = await ctx.client.getStatus(id, deadline);
    } catch (err) {
        if (err instanceof ImagineVideoNotFoundError) {
            ctx.log(
                `video ${id}: in the ledger of accepted generations but gone on the vendor's side; the entry is dropped and a new generation starts`,
            );
            ledger.release(id);
            await ledger.remove(key, id);
            return undefined;
        }
        // Unknown for now: recorded as processing, and the wait below (or the next up) finds out.
        status = undefined;
    }
    ctx.log(
        `video ${id}: adopted from the ledger of accepted generations (${status?.state ?? "status unknown"}): an interrupted \`pulumi up\` started it, so no new generation is made`,
    );
    const record = { ledger, key, digest: e.digest };
    return handOver(record, id, async () => {
        const recorded = { ...base, ...fingerprints(ctx) };
        const outs = status
            ? { ...recorded, ...statusOutputs(id, status) }
            : { ...recorded, videoId: id, status: "processing" };
        if (status?.state === "failed") {
            throw failedGeneration(id, outs, inputs);
        }
        return {
            id,
            outs:
                status !== undefined && status.state !== "processing"
                    ? outs
                    : await finish(ctx, id, outs, inputs, deadline, startedLongAgo(ctx, status?.createdAt)),
        };
    });
}

/**
 * Runs the rest of a create, renewing the entry's lease meanwhile, then marks every entry of the id as
 * handed to the engine, whether it returned or threw.
 */
async function handOver<T>(
    record: { ledger: Ledger; key: LedgerKey; digest: string } | undefined,
    id: string,
    rest: () => Promise<T>,
): Promise<T> {
    const release = record?.ledger.hold(record.key, id, record.digest);
    try {
        return await rest();
    } finally {
        release?.();
        await record?.ledger.handed(id, { key: record.key, digest: record.digest });
    }
}
/** The image as check recorded it; its bytes are read when the request is sent (see image-file.ts). */
function imageFile(cwd: string, imagePath: string, digest: unknown): ImageFile {
    return {
        path: path.resolve(cwd, imagePath),
        imagePath,
        filename: path.basename(imagePath),
        digest: typeof digest === "string" ? digest : "",
    };
}
