/**
 * Signed file links across refreshes. The vendor signs its file links afresh on each status call, so
 * taking every new link would make every refresh report a change. A stored link is kept while it is
 * valid: presigned links carry their date and lifetime (`X-Amz-Date` + `X-Amz-Expires`, the same for
 * `X-Goog-`), or an `Expires` epoch (S3 v2, CloudFront; the emulator's `expires`), or an Azure `se`
 * time; a link that carries none is kept. A link that has expired or is close to it is renewed.
 */

/** Renew a link with less than this left (or a quarter of its lifetime, when that is shorter). */
export const RENEW_MARGIN_MS = 10 * 60_000;

const LINK_KEYS = ["videoUrl", "thumbnailUrl"] as const;

/** The links to record: the stored one while it is still good and points at the same file, else the fresh one. */
export function keepValidLinks(
    stored: Record<string, unknown>,
    fresh: Record<string, unknown>,
    nowMs: number,
): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const k of LINK_KEYS) {
        const now = typeof fresh[k] === "string" ? fresh[k] : undefined;
        const old = typeof stored[k] === "string" ? stored[k] : undefined;
        out[k] = now !== undefined && old !== undefined && sameFile(old, now) && stillGood(old, nowMs) ? old : now;
    }
    return out;
}

/** When a signed link stops working, and how long it was valid for (when it says); undefined when it carries neither. */
export function linkExpiry(link: string): { expiresMs: number; lifetimeMs?: number } | undefined {
    let url: URL;
    try {
        url = new URL(link);
    } catch {
        return undefined;
    }
    const q = new Map<string, string>();
    url.searchParams.forEach((v, k) => q.set(k.toLowerCase(), v));
    for (const prefix of ["x-amz-", "x-goog-"]) {
        const date = q.get(`${prefix}date`);
        const lifetime = Number(q.get(`${prefix}expires`));
        const start = date ? parseCompactDate(date) : undefined;
        if (start !== undefined && Number.isFinite(lifetime) && lifetime >= 0) {
            return { expiresMs: start + lifetime * 1000, lifetimeMs: lifetime * 1000 };
        }
    }
    const epoch = q.get("expires");
    if (epoch !== undefined && /^\d{9,13}$/.test(epoch)) {
        const n = Number(epoch);
        return { expiresMs: n > 1e11 ? n : n * 1000 };
    }
    const se = q.get("se");
    if (se !== undefined && Number.isFinite(Date.parse(se))) {
        return { expiresMs: Date.parse(se) };
    }
    return undefined;
}

function stillGood(link: string, nowMs: number): boolean {
    const e = linkExpiry(link);
    if (!e) {
        return true;
    }
    const margin = Math.min(RENEW_MARGIN_MS, e.lifetimeMs !== undefined ? e.lifetimeMs / 4 : RENEW_MARGIN_MS);
    return e.expiresMs - nowMs > margin;
}

/** Same scheme, host and path: a renewed signature of the same file, not another file. */
function sameFile(a: string, b: string): boolean {
    try {
        const x = new URL(a);
        const y = new URL(b);
        return x.origin === y.origin && x.pathname === y.pathname;
    } catch {
        return false;
    }
}

/** `20250304T070925Z` (the signing date of AWS and GCS links) as ms. */
function parseCompactDate(s: string): number | undefined {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}
