/** HMAC-SHA256 signatures of file URLs: /files/{id}/{name}?expires=<unix s, emulated>&signature=<hex>. */
import { createHmac, timingSafeEqual } from "node:crypto";

export class UrlSigner {
    constructor(private readonly secret: Buffer) {}

    private mac(id: string, name: string, expires: number): string {
        return createHmac("sha256", this.secret).update(`${id}/${name}:${expires}`).digest("hex");
    }

    /** The path and query of a signed URL valid until `expiresSec` (emulated unix seconds). */
    sign(id: string, name: string, expiresSec: number): string {
        const expires = Math.floor(expiresSec);
        return `/files/${id}/${name}?expires=${expires}&signature=${this.mac(id, name, expires)}`;
    }

    /** Why a signature is refused, or undefined if it is valid at `nowSec`. */
    check(id: string, name: string, expiresText: unknown, signature: unknown, nowSec: number): string | undefined {
        if (typeof expiresText !== "string" || typeof signature !== "string" || !/^\d{1,15}$/.test(expiresText)) {
            return "missing or malformed signature";
        }
        const expected = Buffer.from(this.mac(id, name, Number(expiresText)), "hex");
        const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "signature does not match";
        if (Number(expiresText) < nowSec) return "signed URL expired";
        return undefined;
    }
}
