// The engine stand-in for tests: runs Pulumi programs and dynamic providers through the SDK's real
// program host and provider host, playing the engine's part (see docs/testing.md, "The engine stand-in").
export { EngineStack } from "./stack";
export type { StackOptions, ConfigValue, OperationResult } from "./stack";
export type { Checkpoint, ResourceState } from "./checkpoint";
export type { Step, StepOp } from "./summary";
export type { Diagnostic } from "./engine-service";
export { SPECIAL_SIG_KEY, SECRET_SIG, UNKNOWN } from "./secrets";
export { findPulumiCli, PulumiCliStack, stopPulumiCliProcesses, summaryOf } from "./pulumi-cli";
export type { PulumiCliOptions, CliOpResult } from "./pulumi-cli";
