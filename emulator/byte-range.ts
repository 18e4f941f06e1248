/**
 * The HTTP `Range` header of a file request, as object storage reads it (RFC 9110 §14): one range
 * of bytes, `bytes=first-last`, `bytes=first-` or `bytes=-suffix`. Several ranges, or another unit,
 * are ignored (the whole file is sent), as S3 does.
 */

/** The bytes to send: the whole file, one range of it, or none (416: no byte of the range exists). */
export type RangeAnswer = { kind: "whole" } | { kind: "part"; start: number; end: number } | { kind: "unsatisfiable" };

export function readRange(header: string | undefined, size: number): RangeAnswer {
    const match = /^bytes=(\d*)-(\d*)$/.exec((header ?? "").trim());
    if (!match || (match[1] === "" && match[2] === "")) return { kind: "whole" };
    const [first, last] = [match[1], match[2]];
    if (first === "") {
        const suffix = Number(last);
        if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
        return { kind: "part", start: Math.max(0, size - suffix), end: size - 1 };
    }
    const start = Number(first);
    const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== "" && Number(last) < start) return { kind: "whole" }; // invalid: ignored, as the RFC says
    if (start >= size) return { kind: "unsatisfiable" };
    return { kind: "part", start, end };
}
