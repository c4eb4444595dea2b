import { Option, type Command } from "commander";
import { formatIssue, loadDesiredState } from "../../../src/api/loader/load.js";
import type { HostPatchPlan, PlanOutcomeState } from "../../../src/api/host-patch-plan.js";
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

export interface OnceOptions {
  /** Whether the kill switch is present now: a Halted outcome left from before it was removed does not count. */
  killSwitchPresent?: boolean;
  /** Plans this run has reconciled: only their status speaks for this run. */
  seen?: ReadonlySet<string>;
}

/** What each outcome means to `run --once`: not settled yet, or settled with how it is reported. */
const SETTLED: Record<PlanOutcomeState, { label: string; counts?: "failed" | "halted" } | undefined> = {
  Converged: { label: "converged" },
  OutsideWindow: { label: "OutsideWindow" },
  Suspended: { label: "Suspended" },
  NotHandled: { label: "not handled" },
  Halted: { label: "halted", counts: "halted" },
  Stalled: { label: "stalled", counts: "failed" },
  Blocked: { label: "blocked", counts: "failed" },
  Progressing: undefined,
  Waiting: undefined,
  Failing: undefined,
};

/**
 * Whether `run --once` may stop, from each host patch plan's `status.outcome`: every plan has
 * converged, stalled or is blocked, is outside its window, suspended or halted, or is not handled by
 * this version. Only outcomes this run wrote count (`seen`; without it, those decided at or after
 * `since`), and a Halted outcome only while the kill switch is still there.
 */
export async function onceOutcome(
  store: ObjectStore,
  since: number,
  options: OnceOptions = {},
): Promise<OnceOutcome> {
  const summary: string[] = [];
  let failed = false;
  let halted = false;
  for (const p of await store.list("HostPatchPlan")) {
    const outcome = p.status?.outcome;
    const fresh = options.seen
      ? options.seen.has(`${p.metadata.namespace ?? ""}/${p.metadata.name}`)
      : outcome !== undefined && Date.parse(outcome.at) >= since;
    const settled = outcome && SETTLED[outcome.state];
    if (!fresh || !outcome || !settled) return { done: false };
    if (outcome.state === "Halted" && options.killSwitchPresent === false) return { done: false };
    failed ||= settled.counts === "failed";
    halted ||= settled.counts === "halted";
    if (!(await clusterSeenSinceLastPatch(store, p))) return { done: false };
    const ready = p.status?.conditions?.find((c) => c.type === "Ready");
    summary.push(`HostPatchPlan/${p.metadata.name}: ${settled.label} (${ready?.message ?? ""})`);
  }
  for (const g of await store.list("GuestUpdatePlan")) {
    summary.push(
      `GuestUpdatePlan/${g.metadata.name}: not handled by this version (guest updates come later)`,
    );
  }
  return { done: true, code: halted ? EXIT.halted : failed ? EXIT.failed : EXIT.ok, summary };
}

/**
 * Whether the plan's cluster has been observed (or tried) since the last of its HostPatches ended,
 * so that the status `run --once` leaves behind is what the cluster is now.
 */
async function clusterSeenSinceLastPatch(store: ObjectStore, plan: HostPatchPlan): Promise<boolean> {
  const ref = plan.spec.clusterRef;
  if (!ref) return true;
  const cluster = await store.get("ProxmoxCluster", plan.metadata.namespace ?? "", ref.name);
  if (!cluster) return true;
  const ended = (await store.list("HostPatch"))
    .filter((hp) => hp.spec.planRef.name === plan.metadata.name && hp.status?.finishedAt)
    .map((hp) => Date.parse(hp.status?.finishedAt ?? ""));
  if (ended.length === 0) return true;
  const attempt = cluster.status?.lastAttemptAt;
  return attempt !== undefined && Date.parse(attempt) >= Math.max(...ended);
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
      const outcome = await onceOutcome(controller.store, since, {
        killSwitchPresent: await controller.deps.killSwitch.isHalted(),
        seen: controller.plansSeen,
      });
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
