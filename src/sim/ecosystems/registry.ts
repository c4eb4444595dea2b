import { registerCommands, registerPathResolver } from "../commands/registry.js";
import type { CommandHandler } from "../commands/types.js";
import type { Place } from "../exec/place.js";
import type { ContainerContents } from "../model/state.js";

/**
 * The container ecosystems the simulator knows. Adding one is a new module that calls
 * `registerEcosystem` (and a line in ecosystems/all.ts): it names the programs it installs inside a
 * container, when the container has them, and optionally programs found by path (a venv's pip).
 */
export interface EcosystemDef {
  name: string;
  /** Whether a container's contents include this ecosystem. */
  present: (c: ContainerContents) => boolean;
  /** Programs on PATH inside the container. */
  commands: Record<string, { path: string; handler: CommandHandler }>;
  /** Programs found by absolute path (e.g. `/opt/app/venv/bin/pip`). */
  resolvePath?: (c: ContainerContents, path: string) => CommandHandler | undefined;
}

const ecosystems = new Map<string, EcosystemDef>();

export function registerEcosystem(def: EcosystemDef): void {
  ecosystems.set(def.name, def);
  const available = (p: Place): boolean =>
    p.kind === "container" && p.guest.contents !== undefined && def.present(p.guest.contents);
  registerCommands(
    Object.entries(def.commands).map(([name, c]) => ({ name, path: c.path, available, handler: c.handler })),
  );
  if (def.resolvePath) {
    const resolve = def.resolvePath;
    registerPathResolver((p, path) =>
      p.kind === "container" && p.guest.contents && def.present(p.guest.contents)
        ? resolve(p.guest.contents, path)
        : undefined,
    );
  }
}

export function ecosystemNames(): string[] {
  return [...ecosystems.keys()].sort();
}
