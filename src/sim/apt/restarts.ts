/**
 * Services a package's maintainer scripts restart when it is upgraded on a PVE node
 * (src/pve/REFERENCE-cluster-services.md): pve-cluster and corosync are built with
 * debhelper-compat 13, whose dh_installsystemd restarts the unit after an upgrade; pve-ha-manager
 * restarts pve-ha-lrm first, then pve-ha-crm (its debian/rules). A fresh install starts nothing new
 * here: the services of a PVE node already exist.
 */
import type { Sim } from "../world.js";
import type { HostState } from "../model/state.js";
import type { CommandContext } from "../commands/types.js";
import type { AptTarget } from "./target.js";

const RESTARTS: Record<string, readonly string[]> = {
  "pve-cluster": ["pve-cluster"],
  corosync: ["corosync"],
  "pve-ha-manager": ["pve-ha-lrm", "pve-ha-crm"],
};

/** Seconds a restart keeps the unit from being active, and whether dpkg waits for it. */
function restartOf(sim: Sim, unit: string): { seconds: number; waits: boolean } {
  if (unit === "corosync") return { seconds: sim.timing.corosyncRejoinSeconds, waits: false };
  if (unit === "pve-cluster") return { seconds: sim.timing.pmxcfsRestartSeconds, waits: true };
  return { seconds: 1, waits: true };
}

function settle(sim: Sim, host: HostState, unit: string, bootId: string): void {
  const svc = host.services[unit];
  if (host.bootId !== bootId || host.power !== "up" || svc?.active !== "activating") return;
  svc.active = "active";
  svc.since = sim.now();
}

/** Runs the restarts that configuring `name` triggers on `t`'s host (none inside a container). */
export async function restartAfterUpgrade(ctx: CommandContext, t: AptTarget, name: string): Promise<void> {
  const host = t.host;
  if (!host || host.kind !== "pve" || t.apt.installed[name] === undefined) return;
  const sim = ctx.sim;
  for (const unit of RESTARTS[name] ?? []) {
    const svc = host.services[unit];
    if (svc?.active !== "active") continue;
    svc.active = "activating";
    svc.since = sim.now();
    sim.state.history.serviceRestarts.push({ host: host.name, unit, at: sim.now() });
    const { seconds, waits } = restartOf(sim, unit);
    const bootId = host.bootId;
    if (waits) {
      try {
        await sim.sleep(seconds, ctx.signal);
      } finally {
        settle(sim, host, unit, bootId);
      }
    } else
      sim.spawn(`restart ${unit} ${host.name}`, async () => {
        await sim.sleep(seconds);
        settle(sim, host, unit, bootId);
      });
  }
}
