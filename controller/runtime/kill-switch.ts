/**
 * The emergency stop: while the flag file exists, no reconciler starts a new step on any object. A
 * step already in flight finishes (interrupting dpkg or a migration half-way is worse than letting
 * it end). `touch /etc/refit/STOP` halts the fleet; removing the file resumes it.
 */
import { readFile } from "node:fs/promises";

export const DEFAULT_KILL_SWITCH_PATH = "/etc/refit/STOP";

export type HaltReason = "KillSwitch" | "PlanSuspended" | "ClusterSuspended";

export type HaltState = { halted: false } | { halted: true; reason: HaltReason; message: string };

export interface Suspendable {
  kind: string;
  metadata: { name: string };
  spec: { suspend?: boolean };
}

/** The first line of the flag file is shown as the operator's note; longer text is cut. */
const NOTE_LIMIT = 200;

export class KillSwitch {
  constructor(readonly path: string = DEFAULT_KILL_SWITCH_PATH) {}

  /** Halted when the flag file exists, and also when it cannot be checked (fail closed). */
  async state(): Promise<HaltState> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return { halted: false };
      if (code === "EISDIR") text = "";
      else
        return {
          halted: true,
          reason: "KillSwitch",
          message: `cannot check the kill switch ${this.path} (${code ?? String(err)}), so nothing new starts; fix its permissions or remove it`,
        };
    }
    const note = (text.split("\n")[0] ?? "").trim().slice(0, NOTE_LIMIT);
    return {
      halted: true,
      reason: "KillSwitch",
      message: `kill switch ${this.path} is present${note ? ` (${note})` : ""}; nothing new starts until it is removed`,
    };
  }

  async isHalted(): Promise<boolean> {
    return (await this.state()).halted;
  }
}

/**
 * Whether a plan may start a new step: the kill switch first (it stops everything), then the
 * cluster's `spec.suspend` (it stops every plan on the cluster), then the plan's own.
 */
export async function haltState(
  killSwitch: KillSwitch,
  plan: Suspendable,
  cluster?: Suspendable,
): Promise<HaltState> {
  const global = await killSwitch.state();
  if (global.halted) return global;
  if (cluster?.spec.suspend === true) {
    return {
      halted: true,
      reason: "ClusterSuspended",
      message: `${cluster.kind}/${cluster.metadata.name} has spec.suspend: true; nothing new starts on it until it is set to false`,
    };
  }
  if (plan.spec.suspend === true) {
    return {
      halted: true,
      reason: "PlanSuspended",
      message: `${plan.kind}/${plan.metadata.name} has spec.suspend: true; nothing new starts until it is set to false`,
    };
  }
  return { halted: false };
}
