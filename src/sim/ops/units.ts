import { randomBytes } from "node:crypto";
import { runProcess } from "../exec/runtime.js";
import type { HostState, JournalEntry, TransientUnit } from "../model/state.js";
import type { Sim } from "../world.js";
import { onHostDown } from "./power.js";

/**
 * Transient systemd units (`systemd-run`): the inner command runs in sim time detached from any SSH
 * connection, its output goes to the unit's journal, RuntimeMaxSec stops it with Result=timeout,
 * and a finished unit is garbage-collected (successful ones always, failed ones with --collect)
 * while its journal stays, as journald keeps it.
 */

export interface UnitSpec {
  name: string;
  argv: string[];
  description?: string;
  runtimeMaxSec?: number;
  collect: boolean;
  remainAfterExit: boolean;
  env: Record<string, string>;
}

interface Control {
  abort: AbortController;
  why?: "timeout" | "stop" | "shutdown";
  done: Promise<void>;
}

const controls = new WeakMap<TransientUnit, Control>();

export function unitName(name: string): string {
  return /\.(service|scope|timer|socket|target|mount|path|slice)$/.test(name) ? name : `${name}.service`;
}

export function journal(
  sim: Sim,
  host: HostState,
  unit: string,
  ident: string,
  pid: number,
  message: string,
): void {
  const entry: JournalEntry = { at: sim.now(), bootId: host.bootId, unit, ident, pid, message };
  host.journal.push(entry);
  if (host.journal.length > 20000) host.journal.splice(0, host.journal.length - 20000);
}

function commandLine(argv: string[]): string {
  return argv
    .map((a) =>
      /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `"${a.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`,
    )
    .join(" ");
}

/** Starts a transient unit; returns undefined when a unit of that name is already loaded. */
export function startUnit(sim: Sim, host: HostState, spec: UnitSpec): TransientUnit | undefined {
  const name = unitName(spec.name);
  if (host.units[name]) return undefined;
  const pid = sim.nextPid(host);
  const unit: TransientUnit = {
    name,
    argv: [...spec.argv],
    description: spec.description ?? commandLine(spec.argv),
    runtimeMaxSec: spec.runtimeMaxSec,
    collect: spec.collect,
    remainAfterExit: spec.remainAfterExit,
    pid,
    active: "active",
    sub: "running",
    result: "success",
    startedAt: sim.now(),
  };
  host.units[name] = unit;
  const bootId = host.bootId;
  journal(sim, host, name, "systemd", 1, `Started ${name} - ${unit.description}.`);
  const abort = new AbortController();
  let resolveDone!: () => void;
  const control: Control = { abort, done: new Promise<void>((r) => (resolveDone = r)) };
  controls.set(unit, control);

  const ident = (spec.argv[0] ?? "sh").split("/").pop() ?? "sh";
  let partial = { out: "", err: "" };
  const emit = (stream: "out" | "err", text: string): void => {
    const buf = partial[stream] + text;
    const lines = buf.split("\n");
    partial = { ...partial, [stream]: lines.pop() ?? "" };
    for (const l of lines) journal(sim, host, name, ident, pid, l);
  };

  if (spec.runtimeMaxSec !== undefined && Number.isFinite(spec.runtimeMaxSec)) {
    const limit = spec.runtimeMaxSec;
    sim.spawn(`runtime limit ${name}`, async () => {
      try {
        await sim.sleep(limit, abort.signal);
      } catch {
        return;
      }
      if (unit.active !== "active") return;
      control.why = "timeout";
      journal(sim, host, name, "systemd", 1, `${name}: Service reached runtime time limit. Stopping.`);
      abort.abort(new Error("RuntimeMaxSec"));
    });
  }

  sim.spawn(`unit ${name}`, async () => {
    let code: number;
    try {
      code = await runProcess(
        sim,
        { kind: "host", host },
        spec.argv,
        { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...spec.env },
        { stdin: "", stdout: (t) => emit("out", t), stderr: (t) => emit("err", t) },
        abort.signal,
        { via: "unit" },
      );
    } finally {
      for (const s of ["out", "err"] as const)
        if (partial[s].length > 0) journal(sim, host, name, ident, pid, partial[s]);
    }
    finish(sim, host, unit, control, code, bootId);
    resolveDone();
  });
  return unit;
}

function finish(
  sim: Sim,
  host: HostState,
  unit: TransientUnit,
  control: Control,
  code: number,
  bootId: string,
): void {
  const name = unit.name;
  unit.exitedAt = sim.now();
  abortQuietly(control);
  if (control.why === "shutdown" || host.bootId !== bootId) {
    // The host went down: systemd stopped the unit with SIGTERM during shutdown.
    unit.active = "inactive";
    unit.sub = "dead";
    unit.result = "signal";
    unit.exitSignal = "TERM";
    journal(sim, host, name, "systemd", 1, `${name}: Main process exited, code=killed, status=15/TERM`);
    journal(sim, host, name, "systemd", 1, `${name}: Failed with result 'signal'.`);
    journal(sim, host, name, "systemd", 1, `Stopped ${name} - ${unit.description}.`);
    return;
  }
  if (control.why === "timeout") {
    unit.active = "failed";
    unit.sub = "failed";
    unit.result = "timeout";
    unit.exitSignal = "TERM";
    journal(sim, host, name, "systemd", 1, `${name}: Main process exited, code=killed, status=15/TERM`);
    journal(sim, host, name, "systemd", 1, `${name}: Failed with result 'timeout'.`);
  } else if (control.why === "stop") {
    unit.active = "inactive";
    unit.sub = "dead";
    unit.result = "success";
    unit.exitSignal = "TERM";
    journal(sim, host, name, "systemd", 1, `${name}: Deactivated successfully.`);
    journal(sim, host, name, "systemd", 1, `Stopped ${name} - ${unit.description}.`);
  } else if (code === 0) {
    unit.exitStatus = 0;
    unit.result = "success";
    unit.active = unit.remainAfterExit ? "active" : "inactive";
    unit.sub = unit.remainAfterExit ? "exited" : "dead";
    journal(sim, host, name, "systemd", 1, `${name}: Deactivated successfully.`);
  } else {
    unit.exitStatus = code;
    unit.result = "exit-code";
    unit.active = "failed";
    unit.sub = "failed";
    journal(
      sim,
      host,
      name,
      "systemd",
      1,
      `${name}: Main process exited, code=exited, status=${code}/${code === 1 ? "FAILURE" : exitName(code)}`,
    );
    journal(sim, host, name, "systemd", 1, `${name}: Failed with result 'exit-code'.`);
  }
  const collectable = unit.active === "inactive" || (unit.active === "failed" && unit.collect);
  if (!collectable) return;
  const collect = (): void => {
    if (host.units[name] === unit) delete host.units[name];
  };
  const delay = sim.timing.unitCollectSeconds;
  if (delay <= 0) collect();
  else
    sim.spawn(`collect ${name}`, async () => {
      await sim.sleep(delay);
      collect();
    });
}

function exitName(code: number): string {
  return (
    (
      {
        2: "INVALIDARGUMENT",
        3: "NOTIMPLEMENTED",
        4: "NOPERMISSION",
        5: "NOTINSTALLED",
        6: "NOTCONFIGURED",
        7: "NOTRUNNING",
      } as Record<number, string>
    )[code] ?? "n/a"
  );
}

function abortQuietly(control: Control): void {
  if (!control.abort.signal.aborted) control.abort.abort(new Error("unit finished"));
}

/** `systemctl stop`: SIGTERM to the unit's processes. Resolves when the unit has stopped. */
export async function stopUnit(sim: Sim, host: HostState, name: string): Promise<boolean> {
  const unit = host.units[unitName(name)];
  if (!unit) return false;
  const control = controls.get(unit);
  if (unit.active === "active" && control) {
    journal(sim, host, unit.name, "systemd", 1, `Stopping ${unit.name} - ${unit.description}...`);
    control.why = "stop";
    control.abort.abort(new Error("stopped"));
    await control.done;
  } else if (unit.active === "failed" || unit.sub === "exited") delete host.units[unit.name];
  return true;
}

export function resetFailed(host: HostState, name?: string): void {
  for (const u of Object.values(host.units))
    if (u.active === "failed" && (name === undefined || u.name === unitName(name))) delete host.units[u.name];
}

export function newInvocationId(): string {
  return randomBytes(16).toString("hex");
}

onHostDown((sim, host) => {
  for (const unit of Object.values(host.units)) {
    const control = controls.get(unit);
    if (unit.active !== "active" || !control) continue;
    journal(sim, host, unit.name, "systemd", 1, `Stopping ${unit.name} - ${unit.description}...`);
    control.why = "shutdown";
    control.abort.abort(new Error("host shutdown"));
  }
});
