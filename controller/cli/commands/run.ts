import { Option, type Command } from "commander";
import { formatIssue, loadDesiredState } from "../../../src/api/loader/load.js";
import { parseDuration } from "../../../src/api/primitives.js";
import { ScaledClock, systemClock, type Clock } from "../../../src/clock.js";
import { createLogger, type Logger } from "../../../src/log/logger.js";
import { Controller } from "../../app.js";
import type { Timing } from "../../context.js";
import { DEFAULT_KILL_SWITCH_PATH } from "../../runtime/kill-switch.js";
import type { ObjectStore } from "../../runtime/store.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

export interface RunOptions {
  desired: string;
  state: string;
  once: boolean;
  killSwitch: string;
  selfNode?: string;
  clock?: Clock;
  log?: Logger;
  timing?: Partial<Timing>;
  /** Real milliseconds between --once checks. */
  checkEveryMs?: number;
}

export type OnceOutcome = { done: false } | { done: true; code: number; summary: string[] };

/**
 * Whether `run --once` may stop: every host patch plan has finished a cycle since `since`, stalled,
 * or waits outside its window; plans this version does not handle are reported and left out.
 */
export async function onceOutcome(
  store: ObjectStore,
  since: number,
  now: number = Date.now(),
  killSwitchPresent = true,
  seen?: ReadonlySet<string>,
): Promise<OnceOutcome> {
  const plans = await store.list("HostPatchPlan");
  const summary: string[] = [];
  let failed = false;
  let halted = false;
  for (const p of plans) {
    // A status this run has not yet written may be a previous run's (a stale KillSwitch or Suspended).
    if (seen && !seen.has(`${p.metadata.namespace ?? ""}/${p.metadata.name}`)) return { done: false };
    const s = p.status;
    const ready = s?.conditions?.find((c) => c.type === "Ready");
    const label = `HostPatchPlan/${p.metadata.name}`;
    if (ready?.reason === "ProfileNotSupported") {
      summary.push(`${label}: skipped (${ready.message})`);
      continue;
    }
    if (ready?.reason === "KillSwitch" && killSwitchPresent) {
      halted = true;
      summary.push(`${label}: halted (${ready.message})`);
      continue;
    }
    if (s?.phase === "Stalled" || s?.conditions?.some((c) => c.type === "Stalled" && c.status === "True")) {
      if (s.phase === "Progressing") return { done: false };
      failed = true;
      summary.push(`${label}: stalled (${ready?.message ?? ""})`);
      continue;
    }
    const outside = ["OutsideWindow", "WindowClosing", "InBlackout", "BlackoutStarting"].includes(
      ready?.reason ?? "",
    );
    if (s?.phase === "OutsideWindow" || s?.phase === "Suspended" || (s?.phase === "Waiting" && outside)) {
      summary.push(`${label}: ${s.phase} (${ready?.message ?? ""})`);
      continue;
    }
    const finished = s?.lastCycle?.finishedAt ? Date.parse(s.lastCycle.finishedAt) : undefined;
    // Converged: a cycle finished since this run began, or the last one succeeded and the plan is
    // not due again yet (its cluster's observeInterval has not passed).
    const cluster = p.spec.clusterRef
      ? await store.get("ProxmoxCluster", p.metadata.namespace ?? "", p.spec.clusterRef.name)
      : undefined;
    const interval = cluster ? parseDuration(cluster.spec.observeInterval) : 0;
    const notDue = s?.phase === "Succeeded" && finished !== undefined && now - finished < interval;
    if (finished !== undefined && (finished >= since || notDue) && s?.phase !== "Progressing") {
      summary.push(`${label}: converged (${ready?.message ?? ""})`);
      continue;
    }
    return { done: false };
  }
  for (const g of await store.list("GuestUpdatePlan")) {
    summary.push(
      `GuestUpdatePlan/${g.metadata.name}: not handled by this version (guest updates come later)`,
    );
  }
  return { done: true, code: halted ? EXIT.halted : failed ? EXIT.failed : EXIT.ok, summary };
}

/** Runs the controller; with `once`, resolves to the exit code when every due plan has settled. */
export async function runController(opts: RunOptions, io: Io): Promise<number> {
  const loaded = await loadDesiredState(opts.desired);
  if (loaded.issues.length > 0) {
    for (const i of loaded.issues) io.err(formatIssue(i));
    io.err(`refit run: the desired state in ${opts.desired} is invalid; nothing was done`);
    return EXIT.invalid;
  }
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger();
  const controller = await Controller.open({
    desiredDir: opts.desired,
    stateDir: opts.state,
    clock,
    log,
    killSwitchPath: opts.killSwitch,
    ...(opts.timing ? { timing: opts.timing } : {}),
    ...(opts.selfNode ? { selfNode: opts.selfNode } : {}),
  });
  const since = clock.now();
  await controller.start();
  if (!opts.once) {
    await new Promise<void>((resolveStop) => {
      const stop = (): void => resolveStop();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await controller.stop();
    return EXIT.ok;
  }
  try {
    for (;;) {
      // A KillSwitch reason left from an earlier run does not count once the file is gone.
      const outcome = await onceOutcome(
        controller.store,
        since,
        clock.now(),
        await controller.deps.killSwitch.isHalted(),
        controller.plansSeen,
      );
      if (outcome.done) {
        for (const line of outcome.summary) io.out(line);
        return outcome.code;
      }
      await new Promise((r) => setTimeout(r, opts.checkEveryMs ?? 500));
    }
  } finally {
    await controller.stop();
  }
}

export function registerRun(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("run")
    .description(
      "Run the controller on a desired-state directory until stopped (or, with --once, until every due plan settles)",
    )
    .option("-d, --desired <dir>", "desired-state directory", "desired-state")
    .option("-s, --state <dir>", "state directory (status, children, history, reports)", "/var/lib/refit")
    .option("--once", "exit when every due plan has converged, stalled or is outside its window", false)
    .option("--kill-switch <path>", "global stop flag file", DEFAULT_KILL_SWITCH_PATH)
    .option("--self-node <name>", "the cluster node this controller runs on (patched last)")
    .addOption(new Option("--time-scale <n>", "run on a scaled clock (against a simulator)").hideHelp())
    .addOption(
      new Option("--clock-origin <sim,real>", "scaled clock origin: sim epoch ms,real epoch ms").hideHelp(),
    )
    .addOption(new Option("--timing <json>", "poll intervals in clock ms (tests)").hideHelp())
    .addHelpText(
      "after",
      `
Exit status with --once: 0 every due plan converged, 1 something failed or stalled,
2 invalid desired state (nothing is done), 3 halted by the kill switch.`,
    )
    .action(
      async (opts: {
        desired: string;
        state: string;
        once: boolean;
        killSwitch: string;
        selfNode?: string;
        timeScale?: string;
        clockOrigin?: string;
        timing?: string;
      }) => {
        let clock: Clock | undefined;
        if (opts.timeScale !== undefined) {
          const [sim, real] = (opts.clockOrigin ?? "").split(",").map(Number);
          clock = new ScaledClock(Number(opts.timeScale), sim || Date.now(), real || Date.now());
        }
        setExit(
          await runController(
            {
              desired: opts.desired,
              state: opts.state,
              once: opts.once,
              killSwitch: opts.killSwitch,
              ...(opts.selfNode ? { selfNode: opts.selfNode } : {}),
              ...(clock ? { clock } : {}),
              ...(opts.timing ? { timing: JSON.parse(opts.timing) as Partial<Timing> } : {}),
            },
            io,
          ),
        );
      },
    );
}
