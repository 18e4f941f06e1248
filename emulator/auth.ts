/**
 * Bearer-token check. A key is known by its SHA-256 hash only, so the raw token is never stored,
 * logged or echoed in an error message.
 */
import { createHash } from "node:crypto";

export type AuthResult = { ok: true; owner: string } | { ok: false; reason: "missing" | "invalid" };

export function ownerOf(token: string): string {
    return createHash("sha256").update(token).digest("hex");
}

export class TokenCheck {
    private readonly owners: Set<string>;

    constructor(tokens: string[]) {
        this.owners = new Set(tokens.map(ownerOf));
    }

    check(header: string | string[] | undefined): AuthResult {
        const value = Array.isArray(header) ? header[0] : header;
        if (!value || value.trim() === "") return { ok: false, reason: "missing" };
        const match = /^Bearer\s+(\S+)\s*$/i.exec(value.trim());
        if (!match) return { ok: false, reason: value.trim().toLowerCase() === "bearer" ? "missing" : "invalid" };
        const owner = ownerOf(match[1]);
        return this.owners.has(owner) ? { ok: true, owner } : { ok: false, reason: "invalid" };
    }
}
