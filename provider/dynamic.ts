/**
 * The stable entry point that stored provider code loads at call time:
 * `require("pulumi-imagine-video/v1")` (v1 of the stored-provider contract). Every Video in every
 * stack calls through here for as long as its state lives, so this path and these method
 * signatures must never change; an incompatible contract would be added as `v2` beside it.
 */
import { createHandlers } from "./methods/handlers";

// createHandlers returns closures that never use `this`, so handing them out one by one is safe.
/* eslint-disable @typescript-eslint/unbound-method */

const handlers = createHandlers();

export const configure = handlers.configure;
export const check = handlers.check;
export const diff = handlers.diff;
export const create = handlers.create;
export const read = handlers.read;
export const update = handlers.update;
const remove = handlers.delete;
export { remove as delete };
