import type { Change } from "./contract.js";
import { splitLocated } from "./steps.js";

/**
 * Runners that work per project directory (npm, yarn, pnpm, composer, gem, dockerCompose) or on
 * the global installation. The place of a global package is `global`.
 */
export const GLOBAL = "global";

export interface Scoped {
  scope?: "local" | "global";
  projects: string[];
}

/** The places a runner lists: its project directories, or `global`. */
export function places(spec: Scoped): string[] {
  return spec.scope === "global" ? [GLOBAL] : spec.projects;
}

/** The pending names in one place, without the place. */
export function namesIn(pending: readonly Change[], place: string): string[] {
  return pending
    .map((p) => splitLocated(p.package))
    .filter((p) => p.place === place)
    .map((p) => p.name);
}
