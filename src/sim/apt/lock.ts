import type { CommandContext } from "../commands/types.js";
import type { ActiveFault } from "../faults/registry.js";
import type { Sim } from "../world.js";
import type { AptTarget } from "./target.js";

/**
 * The dpkg frontend lock (/var/lib/dpkg/lock-frontend) and apt's lists lock, as apt 2.6 takes them
 * (apt-pkg/deb/debsystem.cc `debSystem::Lock`, apt-pkg/contrib/fileutl.cc `GetLock`). Root's
 * `apt-get -s` takes the lock too: only a non-root simulation sets Debug::NoLocking
 * (apt-private/private-main.cc `CheckSimulateMode`). With `-o DPkg::Lock::Timeout=N` apt retries
 * once a second for N seconds before it gives up with the same errors (`GetLockMaybeWait`).
 */

export interface LockHolder {
  pid: number;
  name: string;
}

/** When each `aptLock` fault with `forSeconds` was added: it lets go that long afterwards. */
const since = new WeakMap<ActiveFault, number>();

export function noteLockFault(sim: Sim, fault: ActiveFault): void {
  if (fault.spec.kind === "aptLock") since.set(fault, sim.now());
}

/** Who holds the lock now: an `aptLock` fault (until its time is up) or a running apt/dpkg. */
export function lockHolder(sim: Sim, t: AptTarget): LockHolder | undefined {
  const fault = sim.faults.find("aptLock", (f) => f.host === t.faultHost);
  if (fault) {
    const from = since.get(fault) ?? sim.now();
    const seconds = fault.spec.forSeconds;
    if (seconds === undefined || sim.now() - from < seconds * 1000)
      return { pid: fault.spec.pid, name: fault.spec.holder };
    sim.faults.remove(fault.id);
  }
  return t.apt.lockHolder;
}

/** Waits up to `timeoutSec` (apt polls once a second) and returns the holder if it is still held. */
export async function awaitLock(
  ctx: CommandContext,
  t: AptTarget,
  timeoutSec: number,
): Promise<LockHolder | undefined> {
  for (let waited = 0; ; waited++) {
    const holder = lockHolder(ctx.sim, t);
    if (!holder || waited >= timeoutSec) return holder;
    await ctx.sim.sleep(1, ctx.signal);
  }
}

export function frontendLockError(holder: LockHolder): string {
  return `E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process ${holder.pid} (${holder.name})\nN: Be aware that removing the lock file is not a solution and may break your system.\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n`;
}

export function listsLockError(holder: LockHolder): string {
  return `E: Could not get lock /var/lib/apt/lists/lock. It is held by process ${holder.pid} (${holder.name})\nN: Be aware that removing the lock file is not a solution and may break your system.\nE: Unable to lock directory /var/lib/apt/lists/\n`;
}

/** dpkg 1.21.22's own message (lib/dpkg/file.c `file_lock`) when another process holds the frontend lock. */
export function dpkgLockError(holder: LockHolder): string {
  return `dpkg: error: dpkg frontend lock was locked by another process with pid ${holder.pid}\nNote: removing the lock file is always wrong, can damage the locked area\nand the entire system. See <https://wiki.debian.org/Teams/Dpkg/FAQ#db-lock>.\n`;
}
