/**
 * The fingerprints recorded with each video: of the API key (the first 12 hex digits of the key's
 * SHA-256: short and one-way, the key itself never leaves the provider process, yet enough to tell
 * which of a user's keys made a video: `printf %s "$KEY" | sha256sum | cut -c1-12`), and of the
 * endpoint (the base URL's origin and path): a video id means something only to the key and the
 * endpoint that made it, so a 404 from another proves nothing.
 */
import { createHash } from "crypto";

export const FINGERPRINT_HEX_DIGITS = 12;

export function keyFingerprint(token: string): string {
    return createHash("sha256").update(token).digest("hex").slice(0, FINGERPRINT_HEX_DIGITS);
}

/** How a user finds the fingerprint of one of their keys, for messages. */
export const FINGERPRINT_HOWTO =
    'a key\'s fingerprint is the start of its SHA-256: `printf %s "$KEY" | sha256sum | cut -c1-12`';

/**
 * The endpoint's fingerprint: the first 12 hex digits of the SHA-256 of the base URL's origin and path
 * (lower-case scheme and host, default port dropped, no trailing slash, no query):
 * `printf %s "https://api.vyro.ai" | sha256sum | cut -c1-12` for the default.
 */
export function endpointFingerprint(baseUrl: string): string {
    let canonical = baseUrl.trim();
    try {
        const u = new URL(canonical);
        canonical = `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
    } catch {
        canonical = canonical.replace(/\/+$/, "");
    }
    return createHash("sha256").update(canonical).digest("hex").slice(0, FINGERPRINT_HEX_DIGITS);
}
