import { clusterQuorum, isOnline, isQuorate } from "../model/cluster.js";
import {
  haActive,
  haGuests,
  haMaster,
  haServiceNode,
  haServiceState,
  haSid,
  lrmView,
} from "../model/ha-view.js";
import { queueCrmCommand } from "../ops/ha.js";
import type { HostState } from "../model/state.js";
import { onPve, registerCommands } from "./registry.js";
import { ctime } from "./time-format.js";
import type { CommandContext } from "./types.js";
import { pmxcfsDown } from "./pmxcfs.js";

/** `ha-manager status|config|migrate|relocate|add|remove|set|crm-command node-maintenance enable|disable`. */

function fail(ctx: CommandContext, message: string): number {
  ctx.err(`${message}\n`);
  return 255;
}

function status(ctx: CommandContext, host: HostState): number {
  const c = ctx.sim.clusterOf(host);
  if (!c) return fail(ctx, "no cluster");
  const q = clusterQuorum(ctx.sim, c);
  const now = ctx.sim.now();
  let out = `quorum ${q.quorate ? "OK" : `No quorum on node '${host.name}'!`}\n`;
  if (haActive(ctx.sim, c)) {
    const master = haMaster(ctx.sim, c);
    if (master)
      out += `master ${master} (${isOnline(ctx.sim.state.hosts[master]) && q.quorate ? "active" : "old timestamp - dead?"}, ${ctime(now)})\n`;
    for (const n of c.nodes) {
      const v = lrmView(ctx.sim, c, n);
      out += `lrm ${n} (${v.word}, ${ctime(v.timestamp)})\n`;
    }
    for (const g of haGuests(ctx.sim, c))
      out += `service ${haSid(g)} (${haServiceNode(g)}, ${haServiceState(ctx.sim, g)})\n`;
  }
  ctx.out(out);
  return 0;
}

function findService(
  ctx: CommandContext,
  host: HostState,
  sid: string | undefined,
): ReturnType<typeof haGuests>[number] | string {
  const m = /^(vm|ct):(\d+)$/.exec(sid ?? "") ?? /^(\d+)$/.exec(sid ?? "");
  if (!m) return `400 Parameter verification failed.\nsid: value does not look like a valid service ID\n`;
  const vmid = Number(m[2] ?? m[1]);
  const g = ctx.sim.guest(vmid);
  if (!g || g.cluster !== host.cluster || !g.ha) return `service '${sid}' not defined`;
  return g;
}

function haManager(ctx: CommandContext): number {
  if (ctx.place.kind !== "host") return 127;
  if (pmxcfsDown(ctx)) return 255;
  const host = ctx.place.host;
  const c = ctx.sim.clusterOf(host);
  const [sub, ...rest] = ctx.argv.slice(1);
  const quorate = c ? isQuorate(ctx.sim, host) : false;
  switch (sub) {
    case "status":
      return status(ctx, host);
    case "config": {
      for (const g of c ? haGuests(ctx.sim, c) : [])
        ctx.out(`${haSid(g)}\n\tstate ${g.ha!.state}\n${g.ha!.group ? `\tgroup ${g.ha!.group}\n` : ""}\n`);
      return 0;
    }
    case "crm-command": {
      const [what, action, node] = rest;
      if (what === "stop") {
        // crm-command stop <sid> <timeout>: queued for the CRM (0 = hard stop).
        const [sid, timeout] = rest.slice(1);
        const g = findService(ctx, host, sid);
        if (typeof g === "string") return fail(ctx, g.trimEnd());
        if (!timeout || !/^\d+$/.test(timeout))
          return fail(ctx, `400 not enough arguments\nha-manager crm-command stop <sid> <timeout>`);
        if (!quorate) return fail(ctx, "cluster not ready - no quorum?");
        queueCrmCommand(ctx.sim, host, `stop ${haSid(g)} ${Number(timeout)}`);
        return 0;
      }
      if (what !== "node-maintenance" || (action !== "enable" && action !== "disable") || !node) {
        if (what === "migrate" || what === "relocate")
          return haManager({ ...ctx, argv: ["ha-manager", what, ...rest.slice(1)] });
        return fail(
          ctx,
          `400 not enough arguments\nha-manager crm-command node-maintenance <enable|disable> <node>`,
        );
      }
      // PVE::Cluster::check_node_exists, then queue_crm_commands under the ha domain lock.
      if (!c?.nodes.includes(node)) return fail(ctx, `no such cluster node '${node}'`);
      if (!quorate) return fail(ctx, "cluster not ready - no quorum?");
      queueCrmCommand(ctx.sim, host, `${action}-node-maintenance ${node}`);
      return 0;
    }
    case "migrate":
    case "relocate": {
      const [sid, target] = rest;
      if (!c) return fail(ctx, "no cluster");
      const g = findService(ctx, host, sid);
      if (typeof g === "string") return fail(ctx, g.trimEnd());
      if (!target || !c.nodes.includes(target))
        return fail(ctx, `400 Parameter verification failed.\nnode: no such cluster node '${target ?? ""}'`);
      if (!quorate) return fail(ctx, "cluster not ready - no quorum?");
      if (haServiceNode(g) === target) return fail(ctx, `service '${haSid(g)}' already on node '${target}'`);
      queueCrmCommand(ctx.sim, host, `${sub} ${haSid(g)} ${target}`);
      const t = ctx.sim.startTask(host.name, "hamigrate", String(g.vmid));
      ctx.sim.finishTask(t, "OK");
      return 0;
    }
    case "add": {
      const [sid] = rest;
      const m = /^(vm|ct):(\d+)$/.exec(sid ?? "") ?? /^()(\d+)$/.exec(sid ?? "");
      const g = m ? ctx.sim.guest(Number(m[2])) : undefined;
      if (!g || g.cluster !== host.cluster)
        return fail(ctx, `unable to add resource - no such guest '${sid ?? ""}'`);
      if (g.ha) return fail(ctx, `resource ID '${haSid(g)}' already defined`);
      const stateIdx = rest.indexOf("--state");
      const state = (stateIdx >= 0 ? rest[stateIdx + 1] : "started") as
        "started" | "stopped" | "ignored" | "disabled";
      // The CRM adds a new service as request_start/request_stop; the sim starts it from stopped.
      g.ha = { state, runtime: "stopped", uid: 1 };
      return 0;
    }
    case "remove": {
      const g = findService(ctx, host, rest[0]);
      if (typeof g === "string") return fail(ctx, g.trimEnd());
      g.ha = undefined;
      return 0;
    }
    case "set": {
      const g = findService(ctx, host, rest[0]);
      if (typeof g === "string") return fail(ctx, g.trimEnd());
      const stateIdx = rest.indexOf("--state");
      if (stateIdx >= 0) g.ha!.state = rest[stateIdx + 1] as "started" | "stopped" | "ignored" | "disabled";
      return 0;
    }
    default:
      return fail(
        ctx,
        `ERROR: unknown command 'ha-manager ${sub ?? ""}'\nUSAGE: ha-manager <COMMAND> [ARGS] [OPTIONS]`,
      );
  }
}

registerCommands([
  { name: "ha-manager", path: "/usr/sbin/ha-manager", available: onPve, handler: haManager },
]);
