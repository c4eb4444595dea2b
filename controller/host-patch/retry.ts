/**
 * Retrying a step a restarting cluster service refused (pmxcfs after a pve-cluster upgrade, a node
 * rejoining after a corosync restart; src/pve/REFERENCE-cluster-services.md): the same step again as
 * a new job (a job id never runs twice), after a growing pause, a bounded number of times.
 */
import { isClusterServiceRestarting } from "../../src/pve/index.js";

/** Tries of one step before a refusal of this kind fails the node. */
export const TRANSIENT_ATTEMPTS = 5;
/** Wait before try n+1: n × this (a corosync rejoin takes seconds, a pmxcfs restart less). */
export const RETRY_STEP_MS = 15_000;

/** The next try's number when `log` shows a transient refusal and tries are left; else undefined. */
export function nextAttempt(log: readonly string[], attempt: number | undefined): number | undefined {
  const current = attempt ?? 1;
  return isClusterServiceRestarting(log.join("\n")) && current < TRANSIENT_ATTEMPTS ? current + 1 : undefined;
}

export function retryDelayMs(attempt: number): number {
  return (attempt - 1) * RETRY_STEP_MS;
}

/** Whether a step planned again may start now. */
export function due(retryAt: string | undefined, now: number): boolean {
  return retryAt === undefined || Date.parse(retryAt) <= now;
}

export function retryMessage(attempt: number): string {
  return `refused while a cluster service restarted; try ${attempt} of ${TRANSIENT_ATTEMPTS} in ${retryDelayMs(attempt) / 1000} s`;
}
