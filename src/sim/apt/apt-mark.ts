import type { CommandContext } from "../commands/types.js";
import { dpkgLockError, lockHolder } from "./lock.js";
import { aptTarget, type AptTarget } from "./target.js";

/**
 * `apt-mark hold|unhold|showhold` as apt 2.6 prints them (cmdline/apt-mark.cc `DoSelection`,
 * `ShowSelection`): packages already in the asked state are named first ("was already set on
 * hold."), then the changed ones after dpkg --set-selections ran ("set on hold.", "Canceled hold
 * on"). The selection is written by dpkg, so a held dpkg lock makes it fail ("Executing dpkg
 * failed. Are you root?", exit 100). An unknown name is "Unable to locate package", exit 100.
 */
export function aptMark(ctx: CommandContext): number {
  const t = aptTarget(ctx.sim, ctx.place);
  if (!t) return 127;
  const [op, ...names] = ctx.argv.slice(1).filter((a) => !a.startsWith("-"));
  switch (op) {
    case "hold":
    case "unhold":
      return select(ctx, t, op === "hold", names);
    case "showhold":
    case "showholds":
    case "showheld": {
      const holds = [...(t.apt.holds ?? [])].filter((n) => names.length === 0 || names.includes(n)).sort();
      ctx.out(holds.map((n) => `${n}\n`).join(""));
      return 0;
    }
    case undefined:
      ctx.out("apt 2.6.1 (amd64)\nUsage: apt-mark [options] {auto|manual} pkg1 [pkg2 ...]\n");
      return 1;
    default:
      ctx.err(`E: Invalid operation ${op}\n`);
      return 100;
  }
}

function known(t: AptTarget, name: string): boolean {
  return t.apt.installed[name] !== undefined || t.apt.lists[name] !== undefined;
}

function select(ctx: CommandContext, t: AptTarget, hold: boolean, names: string[]): number {
  const unknown = names.filter((n) => !known(t, n));
  const found = [...new Set(names.filter((n) => known(t, n)))];
  let failed = unknown.length > 0;
  for (const n of unknown) ctx.err(`E: Unable to locate package ${n}\n`);
  if (found.length === 0) {
    ctx.err("E: No packages found\n");
    return 100;
  }
  const holds = new Set(t.apt.holds ?? []);
  const done = found.filter((n) => holds.has(n) === hold);
  const change = found.filter((n) => holds.has(n) !== hold);
  for (const n of done) ctx.out(hold ? `${n} was already set on hold.\n` : `${n} was already not on hold.\n`);
  if (change.length === 0) return failed ? 100 : 0;
  const holder = lockHolder(ctx.sim, t);
  if (holder) {
    ctx.err(dpkgLockError(holder));
    ctx.err("E: Executing dpkg failed. Are you root?\n");
    failed = true;
  } else {
    for (const n of change) {
      if (hold) holds.add(n);
      else holds.delete(n);
    }
    t.apt.holds = [...holds].sort();
  }
  for (const n of change) ctx.out(hold ? `${n} set on hold.\n` : `Canceled hold on ${n}.\n`);
  return failed ? 100 : 0;
}
