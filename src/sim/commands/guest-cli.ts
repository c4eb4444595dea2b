import { isQuorate } from "../model/cluster.js";
import { guestConfig } from "../model/guest-config.js";
import type { GuestState, HostState } from "../model/state.js";
import { OpError } from "../ops/errors.js";
import { migrateGuest } from "../ops/migrate.js";
import { storageUnavailable } from "../ops/migrate-checks.js";
import { queueCrmCommand } from "../ops/ha.js";
import { shutdownGuest, startGuest, stopGuest } from "../ops/power.js";
import {
  checkLock,
  createSnapshot,
  deleteSnapshot,
  rollbackSnapshot,
  snapshotTree,
} from "../ops/snapshot.js";
import { SimStopped } from "../world.js";
import { PveArgError, boolOpt, intOpt, parsePveArgs, parseVmid, strOpt, type OptType } from "./pve-args.js";
import type { CommandContext } from "./types.js";
import { pmxcfsDown } from "./pmxcfs.js";

/**
 * What `qm` and `pct` share: guests are addressed on the local node only (a guest elsewhere gives
 * PVE's "Configuration file … does not exist"), writes need quorum, locks block, HA-managed guests
 * are handed to the HA stack, and errors print PVE's text and exit 255.
 */

export type GuestType = "qemu" | "lxc";

export interface GuestCliSpec {
  cmd: "qm" | "pct";
  type: GuestType;
}

export function confPath(node: string, type: GuestType, vmid: number): string {
  return `nodes/${node}/${type === "qemu" ? "qemu-server" : "lxc"}/${vmid}.conf`;
}

export function localGuest(ctx: CommandContext, host: HostState, type: GuestType, vmid: number): GuestState {
  const g = ctx.sim.guest(vmid);
  if (!g || g.node !== host.name || g.type !== type)
    throw new OpError(`Configuration file '${confPath(host.name, type, vmid)}' does not exist`);
  return g;
}

export function requireQuorum(ctx: CommandContext, host: HostState): void {
  if (!isQuorate(ctx.sim, host)) throw new OpError("cluster not ready - no quorum?");
}

export interface SubCommand {
  usage: string;
  opts: Record<string, OptType>;
  positional: string[];
  extra?: number;
  run: (
    ctx: CommandContext,
    host: HostState,
    pos: string[],
    opts: Record<string, string | number | boolean>,
  ) => Promise<number> | number;
}

export async function runGuestCli(
  ctx: CommandContext,
  cmd: string,
  subs: Record<string, SubCommand>,
): Promise<number> {
  if (ctx.place.kind !== "host") return 127;
  if (pmxcfsDown(ctx)) return 255;
  const host = ctx.place.host;
  const [sub, ...rest] = ctx.argv.slice(1);
  const def = sub === undefined ? undefined : subs[sub];
  if (!def) {
    ctx.err(`ERROR: unknown command '${cmd} ${sub ?? ""}'\nUSAGE: ${cmd} <COMMAND> [ARGS] [OPTIONS]\n`);
    return 255;
  }
  try {
    const parsed = parsePveArgs(rest, def.opts, def.positional, `${cmd} ${sub} ${def.usage}`, def.extra ?? 0);
    return await def.run(ctx, host, parsed.positional, parsed.opts);
  } catch (e) {
    if (e instanceof PveArgError) {
      ctx.err(e.message);
      return 255;
    }
    if (e instanceof OpError) {
      ctx.err(`${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof SimStopped) throw e;
    if (ctx.signal.aborted) return 129;
    throw e;
  }
}

/** The drive keys a CD can sit in (qemu-server: ide0-3, sata0-5, scsi0-30). */
const CD_KEYS = [
  ...[0, 1, 2, 3].map((i) => `ide${i}`),
  ...[0, 1, 2, 3, 4, 5].map((i) => `sata${i}`),
  ...Array.from({ length: 31 }, (_, i) => `scsi${i}`),
];

function vmidOf(pos: string[], usage: string): number {
  return parseVmid(pos[0]!, usage);
}

/** Subcommands with the same behaviour for VMs and containers. */
export function commonSubcommands(spec: GuestCliSpec): Record<string, SubCommand> {
  const { cmd, type } = spec;
  const kind = type === "qemu" ? "VM" : "CT";
  const u = (s: string): string => `${cmd} ${s}`;
  /**
   * An HA-managed guest is handed to the HA stack: start is `ha-manager set <sid> --state started`,
   * stop and shutdown queue `ha-manager crm-command stop <sid> <timeout>` (0 = hard stop; shutdown's
   * --timeout, default 60), which the CRM turns into a request_stop for the LRM.
   */
  const haRequest = (
    ctx: CommandContext,
    host: HostState,
    g: GuestState,
    what: "start" | "stop" | "shutdown",
    timeout?: number,
  ): boolean => {
    if (!g.ha || g.ha.state === "ignored") return false;
    ctx.out(`Requesting HA ${what === "shutdown" ? "stop" : what} for ${kind} ${g.vmid}\n`);
    const sid = `${type === "qemu" ? "vm" : "ct"}:${g.vmid}`;
    if (what === "start") g.ha.state = "started";
    else queueCrmCommand(ctx.sim, host, `stop ${sid} ${what === "stop" ? 0 : (timeout ?? 60)}`);
    return true;
  };
  return {
    list: {
      usage: "[OPTIONS]",
      opts: { full: "bool" },
      positional: [],
      run: (ctx, host) => {
        const guests = ctx.sim.guestsOn(host.name).filter((g) => g.type === type);
        if (guests.length === 0) return 0;
        if (type === "lxc") {
          const f = (a: string, b: string, c: string, d: string): string =>
            `${a.padEnd(10)} ${b.padEnd(10)} ${c.padEnd(12)} ${d.padEnd(20)}\n`;
          ctx.out(f("VMID", "Status", "Lock", "Name"));
          for (const g of guests)
            ctx.out(f(String(g.vmid), g.status === "running" ? "running" : "stopped", g.lock ?? "", g.name));
        } else {
          ctx.out(
            `${"VMID".padStart(10)} ${"NAME".padEnd(20)} ${"STATUS".padEnd(10)} ${"MEM(MB)".padEnd(10)} ${"BOOTDISK(GB)".padStart(12)} ${"PID".padEnd(10)}\n`,
          );
          for (const g of guests) {
            const disk = (g.disks[0]?.sizeBytes ?? 0) / 1024 ** 3;
            ctx.out(
              `${String(g.vmid).padStart(10)} ${g.name.padEnd(20)} ${(g.status === "running" ? "running" : "stopped").padEnd(10)} ${String(Math.round(g.memoryBytes / 1024 ** 2)).padEnd(10)} ${disk.toFixed(2).padStart(12)} ${String(g.status === "running" ? 10000 + g.vmid : 0).padEnd(10)}\n`,
            );
          }
        }
        return 0;
      },
    },
    config: {
      usage: "<vmid> [OPTIONS]",
      opts: { current: "bool", snapshot: "string" },
      positional: ["vmid"],
      run: (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("config <vmid>")));
        const snapName = strOpt(opts, "snapshot");
        let cfg = guestConfig(g);
        if (snapName) {
          const snap = g.snapshots.find((s) => s.name === snapName);
          if (!snap) throw new OpError(`snapshot '${snapName}' does not exist`);
          cfg = guestConfig({
            ...g,
            memoryBytes: snap.saved.memoryBytes,
            cores: snap.saved.cores,
            tags: snap.saved.tags,
            onboot: snap.saved.onboot,
            lock: undefined,
            parent: snap.parent,
          });
        }
        for (const k of Object.keys(cfg).sort()) if (k !== "digest") ctx.out(`${k}: ${String(cfg[k])}\n`);
        return 0;
      },
    },
    status: {
      usage: "<vmid> [OPTIONS]",
      opts: { verbose: "bool" },
      positional: ["vmid"],
      run: (ctx, host, pos) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("status <vmid>")));
        ctx.out(`status: ${g.status === "running" ? "running" : "stopped"}\n`);
        return 0;
      },
    },
    start: {
      usage: "<vmid> [OPTIONS]",
      opts: { skiplock: "bool", timeout: "int", debug: "bool" },
      positional: ["vmid"],
      run: async (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("start <vmid>")));
        requireQuorum(ctx, host);
        if (haRequest(ctx, host, g, "start")) return 0;
        if (!boolOpt(opts, "skiplock")) checkLock(g);
        await startGuest(ctx.sim, g, `${cmd}-start`, ctx.signal);
        return 0;
      },
    },
    stop: {
      usage: "<vmid> [OPTIONS]",
      opts: { skiplock: "bool", timeout: "int", "overrule-shutdown": "bool", keepActive: "bool" },
      positional: ["vmid"],
      run: (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("stop <vmid>")));
        requireQuorum(ctx, host);
        if (haRequest(ctx, host, g, "stop")) return 0;
        if (!boolOpt(opts, "skiplock")) checkLock(g);
        stopGuest(ctx.sim, g, `${cmd}-stop`);
        return 0;
      },
    },
    shutdown: {
      usage: "<vmid> [OPTIONS]",
      opts: { timeout: "int", forceStop: "bool", skiplock: "bool", keepActive: "bool" },
      positional: ["vmid"],
      run: async (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("shutdown <vmid>")));
        requireQuorum(ctx, host);
        // pct refuses a stopped CT; qm's vm_stop returns quietly when the VM is not running.
        if (type === "lxc" && g.status !== "running") throw new OpError(`CT ${g.vmid} not running`);
        // Both default to 60 s (qemu-server: `$timeout = 60 if !defined`; pve-container: `// 60`).
        const timeout = intOpt(opts, "timeout") ?? 60;
        if (haRequest(ctx, host, g, "shutdown", timeout)) return 0;
        if (!boolOpt(opts, "skiplock")) checkLock(g);
        await shutdownGuest(ctx.sim, g, {
          cmd,
          timeout,
          forceStop: boolOpt(opts, "forceStop"),
          reason: `${cmd}-shutdown`,
          log: (l) => ctx.out(`${l}\n`),
          signal: ctx.signal,
        });
        return 0;
      },
    },
    reboot: {
      usage: "<vmid> [OPTIONS]",
      opts: { timeout: "int" },
      positional: ["vmid"],
      run: async (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("reboot <vmid>")));
        requireQuorum(ctx, host);
        checkLock(g);
        // Both APIs say "VM <vmid> not running", for containers too.
        if (g.status !== "running") throw new OpError(`VM ${g.vmid} not running`);
        // qm reboot never forces (`_do_vm_stop(..., $timeout, 1)`, default 60); pct reboot lets
        // lxc-stop kill the CT after the timeout (lxc-stop's own default: 60).
        await shutdownGuest(ctx.sim, g, {
          cmd,
          timeout: intOpt(opts, "timeout") ?? 60,
          forceStop: type === "lxc",
          reason: `${cmd}-reboot`,
          log: (l) => ctx.out(`${l}\n`),
          signal: ctx.signal,
        });
        await startGuest(ctx.sim, g, `${cmd}-reboot`, ctx.signal);
        return 0;
      },
    },
    ...(type === "qemu"
      ? ({
          // `qm set <vmid> --ide2 none,media=cdrom`: only CD drives are modelled (insert, eject);
          // a CD change is applied to a running VM at once (vmconfig_update_disk changes the media).
          set: {
            usage: "<vmid> [OPTIONS]",
            opts: Object.fromEntries(CD_KEYS.map((k) => [k, "string" as const])),
            positional: ["vmid"],
            run: (ctx, host, pos, opts) => {
              const g = localGuest(ctx, host, type, vmidOf(pos, u("set <vmid> [OPTIONS]")));
              checkLock(g);
              for (const key of CD_KEYS) {
                const value = strOpt(opts, key);
                if (value === undefined) continue;
                if (!/(?:^|,)media=cdrom(?:,|$)/.test(value))
                  throw new PveArgError(
                    `400 Parameter verification failed.\n${key}: the simulator models CD drives only (media=cdrom)\n`,
                  );
                const i = g.devices.findIndex((d) => d.key === key);
                if (i >= 0) g.devices[i] = { key, value };
                else g.devices.push({ key, value });
              }
              ctx.sim.events.emit("guest-changed", g.vmid);
              return 0;
            },
          },
        } satisfies Record<string, SubCommand>)
      : {}),
    unlock: {
      usage: "<vmid>",
      opts: {},
      positional: ["vmid"],
      run: (ctx, host, pos) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("unlock <vmid>")));
        g.lock = undefined;
        return 0;
      },
    },
    snapshot: {
      usage: "<vmid> <snapname> [OPTIONS]",
      opts: type === "qemu" ? { description: "string", vmstate: "bool" } : { description: "string" },
      positional: ["vmid", "snapname"],
      run: async (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("snapshot <vmid> <snapname>")));
        const name = pos[1]!;
        if (!/^[a-zA-Z][a-zA-Z0-9_-]{1,39}$/.test(name) && name.length > 0)
          throw new PveArgError(
            `400 Parameter verification failed.\nsnapname: invalid format - invalid configuration ID '${name}'\n\n${u("snapshot <vmid> <snapname> [OPTIONS]")}\n`,
          );
        requireQuorum(ctx, host);
        await asTask(ctx, host, type === "qemu" ? "qmsnapshot" : "vzsnapshot", g.vmid, () =>
          createSnapshot(ctx.sim, g, name, strOpt(opts, "description") ?? "", boolOpt(opts, "vmstate"), (l) =>
            ctx.out(`${l}\n`),
          ),
        );
        return 0;
      },
    },
    listsnapshot: {
      usage: "<vmid>",
      opts: {},
      positional: ["vmid"],
      run: (ctx, host, pos) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("listsnapshot <vmid>")));
        ctx.out(snapshotTree(g));
        return 0;
      },
    },
    delsnapshot: {
      usage: "<vmid> <snapname> [OPTIONS]",
      opts: { force: "bool" },
      positional: ["vmid", "snapname"],
      run: async (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("delsnapshot <vmid> <snapname>")));
        requireQuorum(ctx, host);
        await asTask(ctx, host, type === "qemu" ? "qmdelsnapshot" : "vzdelsnapshot", g.vmid, () =>
          deleteSnapshot(ctx.sim, g, pos[1]!, boolOpt(opts, "force")),
        );
        return 0;
      },
    },
    rollback: {
      usage: "<vmid> <snapname> [OPTIONS]",
      opts: { start: "bool" },
      positional: ["vmid", "snapname"],
      run: async (ctx, host, pos, opts) => {
        const g = localGuest(ctx, host, type, vmidOf(pos, u("rollback <vmid> <snapname>")));
        requireQuorum(ctx, host);
        await asTask(ctx, host, type === "qemu" ? "qmrollback" : "vzrollback", g.vmid, () =>
          rollbackSnapshot(ctx.sim, g, pos[1]!, boolOpt(opts, "start"), (l) => ctx.out(`${l}\n`)),
        );
        return 0;
      },
    },
    migrate: {
      usage: "<vmid> <target> [OPTIONS]",
      opts:
        type === "qemu"
          ? {
              online: "bool",
              "with-local-disks": "bool",
              targetstorage: "string",
              bwlimit: "int",
              force: "bool",
              migration_network: "string",
              migration_type: "string",
              "with-conntrack-state": "bool",
            }
          : {
              online: "bool",
              restart: "bool",
              "target-storage": "string",
              bwlimit: "number",
              timeout: "int",
            },
      positional: ["vmid", "target"],
      run: async (ctx, host, pos, opts) => {
        const usage = u("migrate <vmid> <target> [OPTIONS]");
        const vmid = vmidOf(pos, usage);
        const target = pos[1]!;
        const cluster = ctx.sim.clusterOf(host);
        if (!cluster?.nodes.includes(target))
          throw new PveArgError(
            `400 Parameter verification failed.\ntarget: no such cluster node '${target}'\n\n${usage}\n`,
          );
        const g = localGuest(ctx, host, type, vmid);
        if (target === host.name)
          throw new PveArgError(
            `400 Parameter verification failed.\ntarget: target is local node.\n\n${usage}\n`,
          );
        requireQuorum(ctx, host);
        // migrate_vm's early check (before the HA branch); local devices and volumes are checked in
        // the task itself (QemuMigrate prepare / phase 1), so HA's migrations meet them too.
        const unavailable = type === "qemu" ? storageUnavailable(cluster, g, target) : undefined;
        if (unavailable) throw new OpError(unavailable);
        if (g.ha && g.ha.state !== "ignored") {
          ctx.out(`Requesting HA migration for ${kind} ${vmid} to node ${target}\n`);
          queueCrmCommand(ctx.sim, host, `migrate ${type === "qemu" ? "vm" : "ct"}:${vmid} ${target}`);
          const t = ctx.sim.startTask(host.name, "hamigrate", String(vmid));
          ctx.sim.finishTask(t, "OK");
          return 0;
        }
        checkLock(g);
        const running = g.status === "running";
        const online = boolOpt(opts, "online");
        const restart = boolOpt(opts, "restart");
        const withLocal = boolOpt(opts, "with-local-disks");
        if (type === "lxc") {
          if (running && online) throw new OpError("lxc live migration is currently not implemented");
          if (running && !restart)
            throw new OpError("can't migrate running container without --online or --restart");
        } else {
          if (running && !online) throw new OpError("can't migrate running VM without --online");
        }
        await migrateGuest(ctx.sim, g, {
          target,
          online: running && online,
          withLocalDisks: withLocal,
          force: boolOpt(opts, "force"),
          restart,
          shutdownTimeout: type === "lxc" ? intOpt(opts, "timeout") : undefined,
          via: "cli",
          log: (l) => ctx.out(`${l}\n`),
          signal: ctx.signal,
        });
        return 0;
      },
    },
  };
}

/**
 * The CLI runs snapshot, delsnapshot and rollback as workers (fork_worker in pve-container's
 * API2/LXC/Snapshot.pm and qemu-server's): a task (vzsnapshot, vzdelsnapshot, vzrollback; qm…)
 * shows in the node's active task list while it runs, and ends with OK or the error.
 */
async function asTask(
  ctx: CommandContext,
  host: HostState,
  type: string,
  vmid: number,
  work: () => Promise<void>,
): Promise<void> {
  const task = ctx.sim.startTask(host.name, type, String(vmid));
  try {
    await work();
    ctx.sim.finishTask(task, "OK");
  } catch (e) {
    ctx.sim.finishTask(task, e instanceof Error ? e.message : String(e));
    throw e;
  }
}
