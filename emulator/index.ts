/** The emulator's programmatic API. */
export { startEmulator } from "./server";
export type { EmulatorOptions, EmulatorStats, RunningEmulator } from "./server";
export type {
    Switches,
    StatusShape,
    CodeFormat,
    DeleteWhileProcessing,
    StatusRouteName,
    DeleteMethod,
} from "./options";
export { DEFAULT_SWITCHES } from "./options";
export type { RouteCounts } from "./request-stats";
export { ERRORS } from "./errors";
