/** The SSH transport's public surface. */
export type { ExecOptions, ExecResult, HostExec } from "./types.js";
export { quoteArgv } from "./quote.js";
export { SshReason } from "./reasons.js";
export { SshPool } from "./pool.js";
export type { SshPoolOptions, SshPoolStats } from "./pool.js";
export type { SshTarget } from "./target.js";
export type { Identity } from "./identity.js";
export { identityFromFile } from "./identity.js";
export type { ByteSource } from "./sources.js";
export { bytesSource, envSource, fileSource } from "./sources.js";
export { sha256Fingerprint, formatKey } from "./fingerprint.js";
export type { JobState, JobStatus, JobStatusOptions, StartJobOptions } from "./jobs.js";
export { jobStatus, startJob, validateJobId } from "./jobs.js";
