/**
 * How long HA may take to relocate a container (src/pve/REFERENCE-local-resources.md, "HA moves"):
 * PVECT::migrate always relocates: HA's own shutdown (`$timeout // 60`, not forced; PVE::LXC::vm_stop
 * gives lxc-stop N+5 s and then polls N+5 s more before "container did not stop"), an offline
 * vzmigrate, and a start by the target's LRM once the CRM has the service `started` there. The CRM
 * and the LRMs work in rounds of about 10 s. The container is down from the shutdown to that start.
 */

/** PVE::HA::Resources::PVECT shutdown: `$timeout // 60`, and migrate passes none. */
export const HA_CT_SHUTDOWN_SECONDS = 60;
/** pve-ha-crm / pve-ha-lrm loop period. */
export const HA_ROUND_SECONDS = 10;
const MARGIN_SECONDS = 30;

/** From the request until the vzmigrate task exists: CRM + LRM round, then the worst shutdown. */
export const HA_RELOCATE_START_BOUND_MS =
  (2 * HA_ROUND_SECONDS + 2 * (HA_CT_SHUTDOWN_SECONDS + 5) + MARGIN_SECONDS) * 1000;

/** From the task's OK end until the CT runs on its target: the CRM reads the result, the LRM starts it. */
export const HA_RELOCATE_START_AGAIN_BOUND_MS = (3 * HA_ROUND_SECONDS + MARGIN_SECONDS) * 1000;

const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** Why an HA relocation of a CT took too long, or undefined while it is within its bounds. */
export function haRelocateOverdue(
  now: number,
  startedAt: string | undefined,
  task: { running: boolean; endTime: number | undefined } | undefined,
  arrived: boolean,
): string | undefined {
  if (arrived) return undefined;
  const started = Date.parse(startedAt ?? "");
  if (!Number.isFinite(started)) return undefined;
  if (!task) {
    if (now - started <= HA_RELOCATE_START_BOUND_MS) return undefined;
    return `HA did not start moving it within ${secs(HA_RELOCATE_START_BOUND_MS)} (HA stops a container with its own ${HA_CT_SHUTDOWN_SECONDS} s shutdown timeout, then moves it); check the HA log (ha-manager status) and the container's shutdown`;
  }
  if (task.running || task.endTime === undefined) return undefined;
  if (now - task.endTime * 1000 <= HA_RELOCATE_START_AGAIN_BOUND_MS) return undefined;
  return `moved, but not running on its target ${secs(HA_RELOCATE_START_AGAIN_BOUND_MS)} after the move (HA starts it there); check ha-manager status`;
}
