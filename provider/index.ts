export { Video, VideoArgs } from "./video";
export * from "./errors";
export { SETTINGS as settingKeys } from "./settings";
