export { Video } from "./video";
export type { VideoArgs, VideoIdentity } from "./video";
export * from "./errors";
export { SETTINGS as settingKeys } from "./settings";
