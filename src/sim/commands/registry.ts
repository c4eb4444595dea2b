import type { Place } from "../exec/place.js";
import type { CommandDef, CommandHandler } from "./types.js";

/**
 * The programs the simulated machines have. Each command module registers its definitions here;
 * `resolve` finds a program by name (PATH lookup) or by absolute path, per place, so a Debian VM has
 * no `qm` and a container has only what its ecosystems install.
 */

const BIN_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

const commands = new Map<string, CommandDef[]>();
const pathResolvers: ((place: Place, path: string) => CommandHandler | undefined)[] = [];

export function registerCommands(defs: CommandDef[]): void {
  for (const d of defs) {
    const list = commands.get(d.name) ?? [];
    list.push(d);
    commands.set(d.name, list);
  }
}

/** For programs found only by path (a venv's `bin/pip`). */
export function registerPathResolver(
  resolver: (place: Place, path: string) => CommandHandler | undefined,
): void {
  pathResolvers.push(resolver);
}

export interface Resolved {
  name: string;
  path: string;
  handler: CommandHandler;
}

export function resolveCommand(place: Place, name: string): Resolved | undefined {
  if (name.includes("/")) {
    const slash = name.lastIndexOf("/");
    const dir = name.slice(0, slash) || "/";
    const base = name.slice(slash + 1);
    if (BIN_DIRS.includes(dir)) {
      const def = (commands.get(base) ?? []).find((d) => d.available(place));
      // `/usr/bin/qm` does not exist even though `qm` does (it lives in /usr/sbin); real sh would say not found.
      if (def && (def.path === name || usrMerged(def.path) === usrMerged(name)))
        return { name: base, path: name, handler: def.handler };
    }
    for (const r of pathResolvers) {
      const h = r(place, name);
      if (h) return { name: base, path: name, handler: h };
    }
    return undefined;
  }
  const def = (commands.get(name) ?? []).find((d) => d.available(place));
  return def ? { name, path: def.path, handler: def.handler } : undefined;
}

/** Debian 12 is usr-merged: /bin is /usr/bin and /sbin is /usr/sbin. */
function usrMerged(path: string): string {
  return path.replace(/^\/(bin|sbin)\//, "/usr/$1/");
}

export const onHost = (p: Place): boolean => p.kind === "host";
export const onPve = (p: Place): boolean => p.kind === "host" && p.host.kind === "pve";
export const onPbs = (p: Place): boolean => p.kind === "host" && p.host.pbs !== undefined;
export const anywhere = (): boolean => true;
export const inContainer = (p: Place): boolean => p.kind === "container";
