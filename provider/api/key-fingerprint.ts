/**
 * The fingerprint of an API key, recorded with each video: the first 12 hex digits of the key's
 * SHA-256. Short and one-way (the key itself never leaves the provider process), yet enough to tell
 * which of a user's keys made a video: `printf %s "$KEY" | sha256sum | cut -c1-12`.
 */
import { createHash } from "crypto";

export const FINGERPRINT_HEX_DIGITS = 12;

export function keyFingerprint(token: string): string {
    return createHash("sha256").update(token).digest("hex").slice(0, FINGERPRINT_HEX_DIGITS);
}

/** How a user finds the fingerprint of one of their keys, for messages. */
export const FINGERPRINT_HOWTO =
    'a key\'s fingerprint is the start of its SHA-256: `printf %s "$KEY" | sha256sum | cut -c1-12`';
