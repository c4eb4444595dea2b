import { contentsOf } from "../exec/place.js";
import { resolveCommand } from "./registry.js";
import { serviceDescription, serviceSubState } from "../model/services.js";
import type { HostState, ServiceState, TransientUnit } from "../model/state.js";
import { schedulePowerOff, scheduleReboot, setStopped, startGuest } from "../ops/power.js";
import { journal, newInvocationId, resetFailed, startUnit, stopUnit, unitName } from "../ops/units.js";
import { anywhere, onHost, registerCommands } from "./registry.js";
import { syslogTime, systemdTimestamp } from "./time-format.js";
import type { CommandContext } from "./types.js";

/**
 * systemctl, systemd-run, journalctl and the reboot/shutdown commands. On a host they act on the
 * host's services and transient units; inside a container, on the container's services.
 */

/** Service properties in the order `systemctl show` prints them (org.freedesktop.systemd1.Service, then Unit). */
const PROPERTY_ORDER = [
  "Type",
  "ExitType",
  "Restart",
  "NotifyAccess",
  "RuntimeMaxUSec",
  "MainPID",
  "ControlPID",
  "StatusErrno",
  "Result",
  "ReloadResult",
  "CleanResult",
  "UID",
  "GID",
  "NRestarts",
  "ExecMainStartTimestamp",
  "ExecMainStartTimestampMonotonic",
  "ExecMainExitTimestamp",
  "ExecMainExitTimestampMonotonic",
  "ExecMainPID",
  "ExecMainCode",
  "ExecMainStatus",
  "Id",
  "Names",
  "Description",
  "LoadState",
  "ActiveState",
  "FreezerState",
  "SubState",
  "FragmentPath",
  "UnitFileState",
  "UnitFilePreset",
  "ActiveEnterTimestamp",
  "InactiveEnterTimestamp",
  "Transient",
  "CollectMode",
  "LoadError",
];

function services(ctx: CommandContext): Record<string, ServiceState> {
  if (ctx.place.kind === "host") return ctx.place.host.services;
  return contentsOf(ctx.place)?.services ?? {};
}

function hostOf(ctx: CommandContext): HostState | undefined {
  return ctx.place.kind === "host" ? ctx.place.host : undefined;
}

function baseName(unit: string): string {
  return unit.replace(/\.service$/, "");
}

function usec(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "infinity";
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}min`;
  return `${seconds}s`;
}

function monotonic(ctx: CommandContext, at: number | undefined): string {
  const h = hostOf(ctx);
  if (at === undefined || !h) return "0";
  return String(Math.max(0, Math.round((at - h.bootedAt) * 1000)));
}

function unitProperties(ctx: CommandContext, name: string): Record<string, string> {
  const id = unitName(name);
  const host = hostOf(ctx);
  const unit: TransientUnit | undefined = host?.units[id];
  const svc = services(ctx)[baseName(id)];
  if (unit) {
    const code = unit.exitedAt === undefined ? "0" : unit.exitSignal ? "2" : "1";
    const status = unit.exitSignal === "TERM" ? "15" : String(unit.exitStatus ?? 0);
    return {
      Type: "simple",
      ExitType: "main",
      Restart: "no",
      NotifyAccess: "none",
      RuntimeMaxUSec: usec(unit.runtimeMaxSec),
      MainPID: unit.active === "active" && unit.sub === "running" ? String(unit.pid) : "0",
      ControlPID: "0",
      StatusErrno: "0",
      Result: unit.result,
      ReloadResult: "success",
      CleanResult: "success",
      UID: "[not set]",
      GID: "[not set]",
      NRestarts: "0",
      ExecMainStartTimestamp: systemdTimestamp(unit.startedAt),
      ExecMainStartTimestampMonotonic: monotonic(ctx, unit.startedAt),
      ExecMainExitTimestamp: unit.exitedAt === undefined ? "" : systemdTimestamp(unit.exitedAt),
      ExecMainExitTimestampMonotonic: monotonic(ctx, unit.exitedAt),
      ExecMainPID: String(unit.pid),
      ExecMainCode: code,
      ExecMainStatus: status,
      Id: id,
      Names: id,
      Description: unit.description,
      LoadState: "loaded",
      ActiveState: unit.active,
      FreezerState: "running",
      SubState: unit.sub,
      FragmentPath: `/run/systemd/transient/${id}`,
      UnitFileState: "transient",
      UnitFilePreset: "",
      ActiveEnterTimestamp: systemdTimestamp(unit.startedAt),
      InactiveEnterTimestamp: unit.exitedAt === undefined ? "" : systemdTimestamp(unit.exitedAt),
      Transient: "yes",
      CollectMode: unit.collect ? "inactive-or-failed" : "inactive",
    };
  }
  if (svc) {
    const since = systemdTimestamp(svc.since);
    return {
      Type: "notify",
      ExitType: "main",
      Restart: "on-failure",
      NotifyAccess: "main",
      RuntimeMaxUSec: "infinity",
      MainPID: svc.active === "active" ? String(1000 + baseName(id).length * 37) : "0",
      ControlPID: "0",
      StatusErrno: "0",
      Result: svc.active === "failed" ? "exit-code" : "success",
      ReloadResult: "success",
      CleanResult: "success",
      UID: "[not set]",
      GID: "[not set]",
      NRestarts: "0",
      ExecMainStartTimestamp: svc.active === "active" ? since : "",
      ExecMainStartTimestampMonotonic: "0",
      ExecMainExitTimestamp: svc.active === "failed" ? since : "",
      ExecMainExitTimestampMonotonic: "0",
      ExecMainPID: "0",
      ExecMainCode: svc.active === "failed" ? "1" : "0",
      ExecMainStatus: svc.active === "failed" ? "1" : "0",
      Id: id,
      Names: id,
      Description: serviceDescription(baseName(id)),
      LoadState: "loaded",
      ActiveState: svc.active,
      FreezerState: "running",
      SubState: serviceSubState(svc.active),
      FragmentPath: `/lib/systemd/system/${id}`,
      UnitFileState: svc.enabled ? "enabled" : "disabled",
      UnitFilePreset: "enabled",
      ActiveEnterTimestamp: since,
      InactiveEnterTimestamp: "",
      Transient: "no",
      CollectMode: "inactive",
    };
  }
  return {
    Type: "simple",
    ExitType: "main",
    Restart: "no",
    NotifyAccess: "none",
    RuntimeMaxUSec: "infinity",
    MainPID: "0",
    ControlPID: "0",
    StatusErrno: "0",
    Result: "success",
    ReloadResult: "success",
    CleanResult: "success",
    UID: "[not set]",
    GID: "[not set]",
    NRestarts: "0",
    ExecMainStartTimestamp: "",
    ExecMainStartTimestampMonotonic: "0",
    ExecMainExitTimestamp: "",
    ExecMainExitTimestampMonotonic: "0",
    ExecMainPID: "0",
    ExecMainCode: "0",
    ExecMainStatus: "0",
    Id: id,
    Names: id,
    Description: id,
    LoadState: "not-found",
    ActiveState: "inactive",
    FreezerState: "running",
    SubState: "dead",
    FragmentPath: "",
    UnitFileState: "",
    UnitFilePreset: "",
    ActiveEnterTimestamp: "",
    InactiveEnterTimestamp: "",
    Transient: "no",
    CollectMode: "inactive",
    LoadError: `org.freedesktop.systemd1.NoSuchUnit "Unit ${id} not found."`,
  };
}

function activeState(ctx: CommandContext, name: string): string {
  return unitProperties(ctx, name).ActiveState ?? "inactive";
}

function known(ctx: CommandContext, name: string): boolean {
  return unitProperties(ctx, name).LoadState === "loaded";
}

async function restartService(
  ctx: CommandContext,
  name: string,
  action: "start" | "restart" | "stop" | "reload",
): Promise<number> {
  const base = baseName(unitName(name));
  const host = hostOf(ctx);
  if (host?.units[unitName(name)]) {
    if (action === "stop") await stopUnit(ctx.sim, host, name);
    return 0;
  }
  const svc = services(ctx)[base];
  if (!svc) {
    ctx.err(`Failed to ${action} ${unitName(name)}: Unit ${unitName(name)} not found.\n`);
    return 5;
  }
  if (action === "stop") {
    svc.active = "inactive";
    svc.since = ctx.sim.now();
  } else {
    const vmid = ctx.place.kind === "container" ? ctx.place.guest.vmid : undefined;
    const hostName = ctx.place.kind === "host" ? ctx.place.host.name : undefined;
    const fault = ctx.sim.faults.find(
      "serviceFailed",
      (f) =>
        f.service === base &&
        (vmid !== undefined ? f.vmid === vmid : f.host === hostName) &&
        (f.onRestart || svc.active === "failed"),
    );
    await ctx.sim.sleep(0.5, ctx.signal);
    svc.since = ctx.sim.now();
    if (fault && action !== "reload") {
      ctx.sim.faults.fire(fault);
      svc.active = "failed";
      ctx.err(
        `Job for ${unitName(name)} failed because the control process exited with error code.\nSee "systemctl status ${unitName(name)}" and "journalctl -xeu ${unitName(name)}" for details.\n`,
      );
      if (ctx.place.kind === "container") ctx.sim.events.emit("guest-changed", ctx.place.guest.vmid);
      return 1;
    }
    svc.active = "active";
  }
  if (ctx.place.kind === "container") ctx.sim.events.emit("guest-changed", ctx.place.guest.vmid);
  return 0;
}

function rebootPlace(ctx: CommandContext, poweroff: boolean): number {
  if (ctx.place.kind === "host") {
    const host = ctx.place.host;
    if (poweroff) schedulePowerOff(ctx.sim, host);
    else scheduleReboot(ctx.sim, host);
    return 0;
  }
  const g = ctx.place.guest;
  const sim = ctx.sim;
  sim.spawn(`ct reboot ${g.vmid}`, async () => {
    await sim.sleep(1);
    setStopped(sim, g, poweroff ? "guest-poweroff" : "guest-reboot");
    if (!poweroff) await startGuest(sim, g, "guest-reboot");
  });
  return 0;
}

async function systemctl(ctx: CommandContext): Promise<number> {
  const args = ctx.argv.slice(1);
  const props: string[] = [];
  let valueOnly = false;
  let quiet = false;
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-p" || a === "--property") props.push(...(args[++i] ?? "").split(","));
    else if (a.startsWith("--property=")) props.push(...a.slice(11).split(","));
    else if (a.startsWith("-p") && a.length > 2) props.push(...a.slice(2).split(","));
    else if (a === "--value") valueOnly = true;
    else if (a === "-q" || a === "--quiet") quiet = true;
    else if (
      a === "--no-pager" ||
      a === "--no-legend" ||
      a === "--plain" ||
      a === "--full" ||
      a === "-l" ||
      a === "--all" ||
      a === "-a" ||
      a === "--no-block" ||
      a === "--no-ask-password"
    )
      continue;
    else if (
      a.startsWith("--type=") ||
      a.startsWith("--state=") ||
      a === "-t" ||
      a === "--type" ||
      a === "--state"
    ) {
      if (!a.includes("=")) i++;
    } else if (a.startsWith("-")) {
      ctx.err(`systemctl: unrecognized option '${a}'\n`);
      return 1;
    } else words.push(a);
  }
  const [verb, ...units] = words;
  switch (verb) {
    case "is-active":
    case "is-failed": {
      let ok = true;
      for (const u of units) {
        const st = activeState(ctx, u);
        if (!quiet) ctx.out(`${st}\n`);
        if (verb === "is-active" ? st !== "active" : st !== "failed") ok = false;
      }
      return units.length > 0 && ok ? 0 : verb === "is-active" ? 3 : 1;
    }
    case "is-enabled": {
      let ok = true;
      for (const u of units) {
        const p = unitProperties(ctx, u);
        if (p.LoadState !== "loaded") {
          ctx.err(`Failed to get unit file state for ${unitName(u)}: No such file or directory\n`);
          ok = false;
          continue;
        }
        if (!quiet) ctx.out(`${p.UnitFileState}\n`);
        if (p.UnitFileState === "disabled") ok = false;
      }
      return ok ? 0 : 1;
    }
    case "show": {
      const blocks = (units.length > 0 ? units : ["__manager__"]).map((u) => {
        const p = unitProperties(ctx, u);
        const keys =
          props.length > 0
            ? PROPERTY_ORDER.filter((k) => props.includes(k)).concat(
                props.filter((k) => !PROPERTY_ORDER.includes(k)),
              )
            : PROPERTY_ORDER.filter((k) => p[k] !== undefined && p[k] !== "");
        return keys.map((k) => (valueOnly ? `${p[k] ?? ""}\n` : `${k}=${p[k] ?? ""}\n`)).join("");
      });
      ctx.out(blocks.join("\n"));
      return 0;
    }
    case "status": {
      let code = 0;
      for (const u of units) {
        const p = unitProperties(ctx, u);
        if (p.LoadState !== "loaded") {
          ctx.err(`Unit ${unitName(u)} could not be found.\n`);
          code = 4;
          continue;
        }
        ctx.out(
          `${p.ActiveState === "active" ? "●" : p.ActiveState === "failed" ? "×" : "○"} ${p.Id} - ${p.Description}\n     Loaded: loaded (${p.FragmentPath}; ${p.UnitFileState || "static"}; preset: enabled)\n     Active: ${p.ActiveState} (${p.SubState}) since ${p.ActiveEnterTimestamp}\n`,
        );
        if (p.ActiveState !== "active" && code === 0) code = 3;
      }
      return code;
    }
    case "start":
    case "restart":
    case "try-restart":
    case "reload-or-restart":
    case "stop":
    case "reload": {
      if (units.length === 0) {
        ctx.err(`Too few arguments.\n`);
        return 1;
      }
      const action =
        verb === "stop" ? "stop" : verb === "start" ? "start" : verb === "reload" ? "reload" : "restart";
      let code = 0;
      for (const u of units) code = Math.max(code, await restartService(ctx, u, action));
      return code;
    }
    case "reset-failed": {
      const host = hostOf(ctx);
      if (host) for (const u of units.length > 0 ? units : [undefined]) resetFailed(host, u);
      return 0;
    }
    case "daemon-reload":
      return 0;
    case "reboot":
      return rebootPlace(ctx, false);
    case "poweroff":
    case "halt":
      return rebootPlace(ctx, true);
    case "list-units": {
      for (const [n, s] of Object.entries(services(ctx)).sort())
        ctx.out(
          `  ${`${n}.service`.padEnd(40)} loaded ${s.active.padEnd(8)} ${s.active === "active" ? "running" : "dead"} ${n}\n`,
        );
      return 0;
    }
    case undefined:
      ctx.err("Too few arguments.\n");
      return 1;
    default:
      if (!known(ctx, verb)) {
        ctx.err(`Unknown command verb ${verb}.\n`);
        return 1;
      }
      return 0;
  }
}

function parseSeconds(v: string): number | undefined {
  if (v === "infinity") return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s|sec|m|min|h|hr|d)?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const mult: Record<string, number> = {
    us: 1e-6,
    ms: 1e-3,
    s: 1,
    sec: 1,
    m: 60,
    min: 60,
    h: 3600,
    hr: 3600,
    d: 86400,
  };
  return n * (mult[unit] ?? 1);
}

async function systemdRun(ctx: CommandContext): Promise<number> {
  const host = hostOf(ctx);
  if (!host) {
    ctx.err("Failed to connect to bus: No such file or directory\n");
    return 1;
  }
  const args = ctx.argv.slice(1);
  let name: string | undefined;
  let runtimeMaxSec: number | undefined;
  let collect = false;
  let quiet = false;
  let wait = false;
  let remain = false;
  let description: string | undefined;
  const env: Record<string, string> = {};
  let i = 0;
  const take = (a: string, long: string, short?: string): string | undefined => {
    if (a === long || (short && a === short)) return args[++i];
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    return undefined;
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-")) break;
    let v: string | undefined;
    if ((v = take(a, "--unit", "-u")) !== undefined) name = v;
    else if ((v = take(a, "--property", "-p")) !== undefined) {
      const eq = v.indexOf("=");
      if (eq <= 0) {
        ctx.err(`Failed to parse argument: ${v}\n`);
        return 1;
      }
      const key = v.slice(0, eq);
      const value = v.slice(eq + 1);
      if (key === "RuntimeMaxSec") {
        const s = parseSeconds(value);
        if (s === undefined) {
          ctx.err(`Failed to parse RuntimeMaxSec= value: ${value}\n`);
          return 1;
        }
        runtimeMaxSec = s;
      } else if (!/^[A-Z][A-Za-z]+$/.test(key)) {
        ctx.err(`Unknown assignment: ${v}\n`);
        return 1;
      }
    } else if ((v = take(a, "--description")) !== undefined) description = v;
    else if ((v = take(a, "--setenv", "-E")) !== undefined) {
      const eq = v.indexOf("=");
      if (eq > 0) env[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (
      ["--service-type", "--uid", "--gid", "--working-directory", "--slice", "--nice"].some(
        (o) => take(a, o) !== undefined,
      )
    )
      continue;
    else if (a === "--collect" || a === "-G") collect = true;
    else if (a === "--quiet" || a === "-q") quiet = true;
    else if (a === "--wait" || a === "-W") wait = true;
    else if (a === "--remain-after-exit" || a === "-r") remain = true;
    else if (
      a === "--no-block" ||
      a === "--no-ask-password" ||
      a === "--system" ||
      a === "--same-dir" ||
      a === "-d"
    )
      continue;
    else {
      ctx.err(`systemd-run: unrecognized option '${a}'\n`);
      return 1;
    }
  }
  const raw = args.slice(i);
  if (raw.length === 0) {
    ctx.err("Command line to execute required.\n");
    return 1;
  }
  // The service manager expands the command line when it spawns a service (see expandExecArgv).
  const argv = expandExecArgv(raw, env);
  const exe = resolveCommand({ kind: "host", host }, argv[0]!);
  if (!exe) {
    ctx.err(`Failed to find executable ${argv[0]}: No such file or directory\n`);
    return 1;
  }
  // systemd-run describes the unit by its resolved command line, as given (before expansion).
  description ??= [exe.path, ...raw.slice(1)]
    .map((a) =>
      /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `"${a.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`,
    )
    .join(" ");
  const unitId = unitName(name ?? `run-r${newInvocationId().slice(0, 32)}`);
  const unit = startUnit(ctx.sim, host, {
    name: unitId,
    argv,
    description,
    runtimeMaxSec,
    collect,
    remainAfterExit: remain,
    env,
  });
  if (!unit) {
    ctx.err(
      `Failed to start transient service unit: Unit ${unitId} was already loaded or has a fragment file.\n`,
    );
    return 1;
  }
  if (!quiet) ctx.err(`Running as unit: ${unitId}\n`);
  if (!wait) return 0;
  while (unit.exitedAt === undefined) await ctx.sim.sleep(0.5, ctx.signal);
  if (!quiet)
    ctx.err(
      `Finished with result: ${unit.result}\nMain processes terminated with: code=${unit.exitSignal ? "killed" : "exited"}/status=${unit.exitSignal ?? unit.exitStatus ?? 0}\n`,
    );
  return unit.exitStatus ?? (unit.result === "success" ? 0 : 1);
}

function journalctl(ctx: CommandContext): number {
  const host = hostOf(ctx);
  const args = ctx.argv.slice(1);
  const units: string[] = [];
  let output = "short";
  let lines: number | undefined;
  let thisBoot = false;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-u" || a === "--unit") units.push(args[++i] ?? "");
    else if (a.startsWith("--unit=")) units.push(a.slice(7));
    else if (a.startsWith("-u") && a.length > 2) units.push(a.slice(2));
    else if (a === "-o" || a === "--output") output = args[++i] ?? "short";
    else if (a.startsWith("--output=")) output = a.slice(9);
    else if (a.startsWith("-o") && a.length > 2) output = a.slice(2);
    else if (a === "-n" || a === "--lines") lines = Number(args[++i] ?? "10");
    else if (a.startsWith("--lines=")) lines = Number(a.slice(8));
    else if (/^-n\d+$/.test(a)) lines = Number(a.slice(2));
    else if (a === "-b" || a === "--boot") {
      thisBoot = true;
      if (args[i + 1] === "0") i++;
    } else if (a === "-q" || a === "--quiet") quiet = true;
    else if (
      a === "--no-pager" ||
      a === "-a" ||
      a === "--all" ||
      a === "-x" ||
      a === "-e" ||
      a === "--no-hostname" ||
      a === "--no-tail"
    )
      continue;
    else if (
      a === "--since" ||
      a === "--until" ||
      a === "-S" ||
      a === "-U" ||
      a === "-p" ||
      a === "--priority" ||
      a === "-t"
    )
      i++;
    else {
      ctx.err(`journalctl: unrecognized option '${a}'\n`);
      return 1;
    }
  }
  if (!["short", "cat", "json", "short-iso", "short-precise", "verbose"].includes(output)) {
    ctx.err(`Unknown output format '${output}'.\n`);
    return 1;
  }
  let entries = host?.journal ?? [];
  if (units.length > 0) {
    const ids = units.map(unitName);
    entries = entries.filter((e) => ids.includes(e.unit));
  }
  if (thisBoot && host) entries = entries.filter((e) => e.bootId === host.bootId);
  if (lines !== undefined && Number.isFinite(lines))
    entries = entries.slice(Math.max(0, entries.length - lines));
  if (entries.length === 0) {
    if (!quiet) ctx.out("-- No entries --\n");
    return 0;
  }
  const hostname = host?.name ?? (ctx.place.kind === "container" ? ctx.place.guest.name : "localhost");
  for (const e of entries) {
    if (output === "cat") ctx.out(`${e.message}\n`);
    else if (output === "json")
      ctx.out(
        `${JSON.stringify({ __REALTIME_TIMESTAMP: String(e.at * 1000), _BOOT_ID: e.bootId.replaceAll("-", ""), _SYSTEMD_UNIT: e.unit, SYSLOG_IDENTIFIER: e.ident, _PID: String(e.pid), MESSAGE: e.message, _HOSTNAME: hostname })}\n`,
      );
    else ctx.out(`${syslogTime(e.at)} ${hostname} ${e.ident}[${e.pid}]: ${e.message}\n`);
  }
  return 0;
}

function reboot(ctx: CommandContext): number {
  const prog = (ctx.argv[0] ?? "reboot").split("/").pop();
  if (prog === "shutdown") {
    const args = ctx.argv.slice(1);
    if (args.includes("-c")) return 0;
    const poweroff = !args.includes("-r") && !args.includes("--reboot");
    const when = args.find((a) => !a.startsWith("-")) ?? "+1";
    if (when !== "now") {
      const mins = /^\+(\d+)$/.exec(when)?.[1];
      ctx.out(
        `Shutdown scheduled for ${systemdTimestamp(ctx.sim.now() + Number(mins ?? 1) * 60_000)}, use 'shutdown -c' to cancel.\n`,
      );
      const sim = ctx.sim;
      const place = ctx.place;
      sim.spawn("scheduled shutdown", async () => {
        await sim.sleep(Number(mins ?? 1) * 60);
        if (place.kind === "host") (poweroff ? schedulePowerOff : scheduleReboot)(sim, place.host);
      });
      return 0;
    }
    return rebootPlace(ctx, poweroff);
  }
  if (ctx.place.kind === "host")
    journal(
      ctx.sim,
      ctx.place.host,
      "systemd-logind.service",
      "systemd-logind",
      800,
      `System is ${prog === "reboot" ? "rebooting" : "powering down"}.`,
    );
  return rebootPlace(ctx, prog === "poweroff" || prog === "halt");
}

registerCommands([
  { name: "systemctl", path: "/usr/bin/systemctl", available: anywhere, handler: systemctl },
  { name: "systemd-run", path: "/usr/bin/systemd-run", available: onHost, handler: systemdRun },
  { name: "journalctl", path: "/usr/bin/journalctl", available: anywhere, handler: journalctl },
  { name: "reboot", path: "/usr/sbin/reboot", available: anywhere, handler: reboot },
  { name: "poweroff", path: "/usr/sbin/poweroff", available: anywhere, handler: reboot },
  { name: "halt", path: "/usr/sbin/halt", available: anywhere, handler: reboot },
  { name: "shutdown", path: "/usr/sbin/shutdown", available: anywhere, handler: reboot },
]);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What the service manager does to a service's command line before it executes it (systemd
 * src/basic/env-util.c replace_env_argv / replace_env, called from src/core/execute.c; systemd-run(1):
 * "the command line ... is subject to variable expansion ... use "$$" for a literal "$"", switchable
 * only since v254 with --expand-environment=no): an argument that is exactly `$NAME` becomes the
 * variable's value split at whitespace (zero or more arguments); inside any other argument `${NAME}`
 * becomes the value (empty when unset) and `$$` becomes `$`; any other `$` stays as it is.
 */
export function expandExecArgv(argv: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a.startsWith("$") && ENV_NAME.test(a.slice(1))) {
      out.push(...(env[a.slice(1)] ?? "").split(/[ \t\n\r]+/).filter((w) => w !== ""));
      continue;
    }
    let word = "";
    for (let k = 0; k < a.length; k++) {
      const c = a[k];
      const next = a[k + 1];
      if (c === "$" && next === "$") {
        word += "$";
        k++;
      } else if (c === "$" && next === "{") {
        const end = a.indexOf("}", k + 2);
        if (end < 0) {
          word += a.slice(k);
          break;
        }
        word += env[a.slice(k + 2, end)] ?? "";
        k = end;
      } else word += c;
    }
    out.push(word);
  }
  return out;
}
