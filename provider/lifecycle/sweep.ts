/** Deleting the videos of ledger entries that no create will adopt (left by an interrupted create with other inputs). */
import { Ledger, LedgerEntry, LedgerKey } from "../ledger/ledger";
import { describeFailure, OperationContext } from "./context";
import { deleteFromVendor } from "./vendor-delete";

/**
 * Deletes the videos of ledger entries no create will adopt (started by an interrupted create with
 * inputs since changed). Never throws: a video that cannot be deleted now keeps its entry, and the next
 * create or delete of the resource tries again.
 */
export async function sweepLedger(
    ctx: OperationContext,
    ledger: Ledger,
    key: LedgerKey,
    stale: LedgerEntry[],
): Promise<void> {
    await Promise.all(
        stale.map(async (e) => {
            await ledger.claim(e);
            try {
                ctx.log(
                    `video ${e.videoId}: started by an interrupted \`pulumi up\` with inputs since changed, and in no stack; deleting it`,
                );
                await deleteFromVendor(ctx, e.videoId, { identity: key });
                ledger.release(e.videoId);
                await ledger.remove(key, e.videoId);
            } catch (err) {
                ledger.release(e.videoId);
                (ctx.warn ?? ctx.log)(
                    `video ${e.videoId} (left by an interrupted \`pulumi up\`) could not be deleted: ${describeFailure(err)} It stays in the ledger; the next \`pulumi up\` or \`pulumi destroy\` of ${key.name} tries again.`,
                );
            }
        }),
    );
}
