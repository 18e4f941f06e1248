/** Video ids: opaque, 1-128 characters of letters, digits, '-' and '_' (no dots, no slashes). */
import { randomUUID } from "node:crypto";

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidId(id: unknown): id is string {
    return typeof id === "string" && ID_PATTERN.test(id);
}

export function newVideoId(): string {
    return randomUUID();
}
