/** `delete`: the video deleted from the vendor (see vendor-delete.ts), then its ledger entries and the videos they left. */
import { identityOf as ledgerKeyOf } from "../ledger/ledger";
import { OperationContext, Props } from "./context";
import { sweepLedger } from "./sweep";
import { deleteFromVendor } from "./vendor-delete";

/**
 * `pulumi destroy` or removal: delete through the Delete API until the vendor has no such video.
 * Already gone counts as deleted; a busy video is waited for; transient failures are retried within
 * `imagine:deleteTimeoutMinutes`; auth and credit errors fail at once (the resource stays in state).
 * An acknowledged delete is then verified (see delete-verification.ts): a video still there gets the
 * delete again with backoff, and one that never goes fails the delete, naming it. Each video deleted
 * or found gone gets a receipt when `imagine:deletionLog` is set. `props` are the stored outputs.
 */
export async function deleteVideo(ctx: OperationContext, id: string, props: Props = {}): Promise<void> {
    await deleteFromVendor(ctx, id, props);
    await ctx.ledger?.shown(id);
    const identity = ledgerKeyOf(props.identity);
    if (ctx.ledger && identity) {
        // Videos an interrupted create of this resource left behind, never adopted: they go with it.
        const left = (await ctx.ledger.find(identity)).filter((e) => e.state === "accepted");
        await sweepLedger(ctx, ctx.ledger, identity, left);
    }
}
