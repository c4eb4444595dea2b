/** What the guest update flow uses from the runners. */
export type { Change, RunnerPlugin, RunnerStep, RunnerTarget, StepResult } from "./contract.js";
export { RUNNERS, pluginFor } from "./registry.js";
export { customRefusal, type CustomCommand } from "./custom/index.js";
export { okCodes, stepFailure } from "./steps.js";
export * from "./errors.js";
