import { watchCeph } from "./model/ceph.js";
import { startHaLoop } from "./ops/ha.js";
import type { Sim } from "./world.js";

/** Starts the simulator's periodic work (HA rounds, PBS task completion). */
export function startBackground(sim: Sim): void {
  startHaLoop(sim);
  watchCeph(sim);
}
