import type { Sim } from "../world.js";
import { noteLockFault } from "../apt/lock.js";
import type { ActiveFault } from "./registry.js";

/**
 * Faults that change state when added (and undo it when removed): a failed service, an interrupted
 * dpkg. The other faults are looked up where they act (apt, reboot, migration, quorum, health).
 */
export function attachFaultEffects(sim: Sim): void {
  sim.faults.onChange((change, fault: ActiveFault) => {
    const s = fault.spec;
    if (s.kind === "serviceFailed" && !s.onRestart) {
      const services =
        s.vmid !== undefined
          ? sim.guest(s.vmid)?.contents?.services
          : s.host
            ? sim.host(s.host)?.services
            : undefined;
      const svc = services?.[s.service];
      if (svc) {
        svc.active = change === "added" ? "failed" : "active";
        svc.since = sim.now();
      }
      if (s.vmid !== undefined) sim.events.emit("guest-changed", s.vmid);
    }
    if (s.kind === "dpkgInterrupted") {
      const host = sim.host(s.host);
      if (host) host.apt.dpkgInterrupted = change === "added";
    }
    if (s.kind === "aptLock" && change === "added") noteLockFault(sim, fault);
    if (s.kind === "healthFailing") sim.events.emit("guest-changed", s.vmid);
  });
}
