/** The package's public API: the `Video` resource, its argument types, the error classes and the setting keys. */
export { Video } from "./video";
export type { VideoArgs, VideoIdentity } from "./video";
export * from "./core/errors";
export { SETTINGS as settingKeys } from "./inputs/settings";
