import { OpError } from "../ops/errors.js";
import { commonSubcommands, localGuest, runGuestCli, type SubCommand } from "./guest-cli.js";
import { parseVmid } from "./pve-args.js";
import { onPve, registerCommands } from "./registry.js";
import type { CommandContext } from "./types.js";

/** `qm` (VMs) and `pct` (containers), including `pct exec <vmid> -- argv`. */

const qmSubs: Record<string, SubCommand> = commonSubcommands({ cmd: "qm", type: "qemu" });

const pctSubs: Record<string, SubCommand> = {
  ...commonSubcommands({ cmd: "pct", type: "lxc" }),
};

async function pctExec(ctx: CommandContext): Promise<number> {
  if (ctx.place.kind !== "host") return 127;
  const host = ctx.place.host;
  const args = ctx.argv.slice(2);
  const sep = args.indexOf("--");
  const before = sep >= 0 ? args.slice(0, sep) : args.slice(0, 1);
  const inner = sep >= 0 ? args.slice(sep + 1) : args.slice(1);
  const usage = "pct exec <vmid> [<extra-args>] [OPTIONS]";
  if (before.length === 0) {
    ctx.err(`400 not enough arguments\n${usage}\n`);
    return 255;
  }
  try {
    const vmid = parseVmid(before[0]!, usage);
    const g = localGuest(ctx, host, "lxc", vmid);
    if (g.status !== "running") throw new OpError(`CT ${vmid} not running`);
    if (inner.length === 0) {
      // Without a command pct exec would open a shell; there is no terminal here.
      throw new OpError("missing command");
    }
    const place = { kind: "container" as const, guest: g, node: host };
    return await ctx.spawn(
      inner,
      { stdin: ctx.stdin, stdout: ctx.out, stderr: ctx.err },
      {
        place,
        via: "pct-exec",
        env: {
          PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          HOME: "/root",
          LANG: "C.UTF-8",
        },
      },
    );
  } catch (e) {
    if (e instanceof OpError) {
      ctx.err(`${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof Error && e.name === "PveArgError") {
      ctx.err(e.message);
      return 255;
    }
    throw e;
  }
}

function qm(ctx: CommandContext): Promise<number> {
  return runGuestCli(ctx, "qm", qmSubs);
}

function pct(ctx: CommandContext): Promise<number> {
  if (ctx.argv[1] === "exec") return pctExec(ctx);
  return runGuestCli(ctx, "pct", pctSubs);
}

export function registerGuestSubcommand(cmd: "qm" | "pct", name: string, sub: SubCommand): void {
  (cmd === "qm" ? qmSubs : pctSubs)[name] = sub;
}

registerCommands([
  { name: "qm", path: "/usr/sbin/qm", available: onPve, handler: qm },
  { name: "pct", path: "/usr/sbin/pct", available: onPve, handler: pct },
]);
