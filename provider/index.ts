export { Video } from "./video";
export type { VideoArgs } from "./video";
export * from "./errors";
export { SETTINGS as settingKeys } from "./settings";
