/**
 * Runner errors. A runner's parse functions throw these; the guest update flow turns them into a
 * condition (`reason`) and decides retry or stop from `retryable` (src/errors.ts).
 */
import { RetryableError, TerminalError } from "../errors.js";

export const RunnerReason = {
  UnparseableOutput: "RunnerOutputUnparseable",
  StepMissing: "RunnerStepResultMissing",
  StepFailed: "RunnerStepFailed",
  RepositoryUnreachable: "RepositoryUnreachable",
  UnsupportedOs: "UnsupportedOsType",
  CustomRefused: "CustomCommandRefused",
} as const;

const EXCERPT = 160;

function excerpt(text: string): string {
  const t = text.trim();
  if (t.length === 0) return "(empty output)";
  return JSON.stringify(t.length <= EXCERPT ? t : `${t.slice(0, EXCERPT)}…`);
}

/**
 * A command printed something the runner cannot read. Retryable (a half-written answer, a transient
 * error page), but nothing is decided from it: the runner's pending list stays unknown.
 */
export class ParseError extends RetryableError {
  constructor(runner: string, command: string, output: string, problem: string) {
    super(
      RunnerReason.UnparseableOutput,
      `The ${runner} runner could not read the output of \`${command}\`: ${problem}; output begins ` +
        `${excerpt(output)}. Nothing is updated by this runner; run the command by hand in the container ` +
        `and check that the tool's version is supported.`,
      { runner, command },
    );
  }
}

/** A parse function was handed results without the step it needs (a flow bug or a cut-off run). */
export class StepMissingError extends RetryableError {
  constructor(runner: string, stepId: string) {
    super(
      RunnerReason.StepMissing,
      `The ${runner} runner got no result for its step "${stepId}"; the step was not run or its output was ` +
        `lost. The runner's listing is run again.`,
      { runner, step: stepId },
    );
  }
}

/** A step exited with a code its runner does not accept. */
export class StepFailedError extends RetryableError {
  constructor(runner: string, stepId: string, command: string, exitCode: number, output: string) {
    super(
      RunnerReason.StepFailed,
      `The ${runner} runner's step "${stepId}" (\`${command}\`) exited ${exitCode}: ${excerpt(output)}. ` +
        `Run it by hand in the container to see why.`,
      { runner, step: stepId, command, exitCode },
    );
  }
}

/** The package index could not be refreshed: the pending list would be stale, so none is given. */
export class RepositoryUnreachableError extends RetryableError {
  constructor(runner: string, command: string, output: string) {
    super(
      RunnerReason.RepositoryUnreachable,
      `The ${runner} runner could not refresh its package index (\`${command}\`): ${excerpt(output)}. ` +
        `Check the container's network, DNS and repository configuration; the update waits.`,
      { runner, command },
    );
  }
}

/** `manager: auto` on a distribution no runner knows. */
export class UnsupportedOsError extends TerminalError {
  constructor(vmid: number, ostype: string) {
    super(
      RunnerReason.UnsupportedOs,
      `CT ${vmid} has ostype "${ostype}", for which the os runner knows no package manager; set the runner's ` +
        `manager (apt, dnf, apk, pacman, zypper) or remove the os runner from this container's policy.`,
      { vmid, ostype },
    );
  }
}
