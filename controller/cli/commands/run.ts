import { Option, type Command } from "commander";
import { formatIssue, loadDesiredState } from "../../../src/api/loader/load.js";
import type { HostPatchPlan, PlanOutcomeState } from "../../../src/api/host-patch-plan.js";
import { ScaledClock, systemClock, type Clock } from "../../../src/clock.js";
import { createLogger, type Logger } from "../../../src/log/logger.js";
import { Controller } from "../../app.js";
import type { GuestPlanOptions } from "../../guest-update-plan/reconciler.js";
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
  /** `--plan NAME [--vmid …]`: a partial run of one guest update plan. */
  plan?: string;
  vmids?: number[];
  /** Test seam: how the guest plans list the cluster's containers. */
  guestPlans?: Omit<GuestPlanOptions, "partial">;
}

export type OnceOutcome = { done: false } | { done: true; code: number; summary: string[] };

export interface OnceOptions {
  /** Whether the kill switch is present now: a Halted outcome left from before it was removed does not count. */
  killSwitchPresent?: boolean;
  /** Host patch plans this run has reconciled: only their status speaks for this run. */
  seen?: ReadonlySet<string>;
  /** Guest update plans this run has reconciled. */
  guestSeen?: ReadonlySet<string>;
  /** A partial run: only this guest plan counts. */
  only?: string;
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
  const plans = [
    ...(options.only ? [] : await store.list("HostPatchPlan")),
    ...(await store.list("GuestUpdatePlan")).filter((g) => !options.only || g.metadata.name === options.only),
  ];
  for (const p of plans) {
    const outcome = p.status?.outcome;
    const seen = p.kind === "HostPatchPlan" ? options.seen : options.guestSeen;
    const fresh = seen
      ? seen.has(`${p.metadata.namespace ?? ""}/${p.metadata.name}`)
      : outcome !== undefined && Date.parse(outcome.at) >= since;
    const settled = outcome && SETTLED[outcome.state];
    if (!fresh || !outcome || !settled) return { done: false };
    if (outcome.state === "Halted" && options.killSwitchPresent === false) return { done: false };
    failed ||= settled.counts === "failed";
    halted ||= settled.counts === "halted";
    if (p.kind === "HostPatchPlan" && !(await clusterSeenSinceLastPatch(store, p))) return { done: false };
    const ready = p.status?.conditions?.find((c) => c.type === "Ready");
    summary.push(`${p.kind}/${p.metadata.name}: ${settled.label} (${ready?.message ?? ""})`);
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

/** A partial run names one GuestUpdatePlan of the desired state; --vmid needs --plan. */
function checkPartial(
  opts: RunOptions,
  objects: readonly { kind: string; name: string }[],
): string | undefined {
  if (opts.vmids && opts.plan === undefined) return "--vmid selects containers of one plan: add --plan NAME";
  if (opts.plan === undefined) return undefined;
  if (objects.some((o) => o.kind === "GuestUpdatePlan" && o.name === opts.plan)) return undefined;
  const plans = objects.filter((o) => o.kind === "GuestUpdatePlan").map((o) => o.name);
  return `--plan ${opts.plan}: there is no GuestUpdatePlan of that name (there are: ${plans.join(", ") || "none"})`;
}

/** `110,111,200-205` → [110, 111, 200, …, 205]; undefined when it is not that. */
export function parseVmidList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split(",").map((x) => x.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    if (from < 100 || to > 999_999_999 || to < from || to - from > 10_000) return undefined;
    for (let v = from; v <= to; v++) out.push(v);
  }
  return out.length > 0 ? [...new Set(out)].sort((a, b) => a - b) : undefined;
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
  const partialError = checkPartial(opts, loaded.objects);
  if (partialError) {
    io.err(`refit run: ${partialError}; nothing was done`);
    return EXIT.invalid;
  }
  const partial =
    opts.plan !== undefined
      ? {
          plan: opts.plan,
          requestedAt: new Date(clock.now()).toISOString(),
          ...(opts.vmids ? { vmids: opts.vmids } : {}),
        }
      : undefined;
  const controller = await Controller.open({
    desiredDir: opts.desired,
    stateDir: opts.state,
    clock,
    log,
    killSwitchPath: opts.killSwitch,
    ...(opts.timing ? { timing: opts.timing } : {}),
    ...(opts.selfNode ? { selfNode: opts.selfNode } : {}),
    ...(partial || opts.guestPlans
      ? { guestPlans: { ...opts.guestPlans, ...(partial ? { partial } : {}) } }
      : {}),
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
        guestSeen: controller.guestPlansSeen,
        ...(opts.plan ? { only: opts.plan } : {}),
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
    .option(
      "--plan <name>",
      "partial run: only this GuestUpdatePlan acts, one cycle now (host plans do not run)",
    )
    .option("--vmid <list>", "with --plan: only these containers, e.g. 110,111 or 200-205")
    .addOption(new Option("--time-scale <n>", "run on a scaled clock (against a simulator)").hideHelp())
    .addOption(
      new Option("--clock-origin <sim,real>", "scaled clock origin: sim epoch ms,real epoch ms").hideHelp(),
    )
    .addOption(new Option("--timing <json>", "poll intervals in clock ms (tests)").hideHelp())
    .addHelpText(
      "after",
      `
Partial run: refit run --once --plan apps --vmid 110,111 updates those containers now (one cycle,
\`after\` skipped; windows, blackouts, the mutex and the kill switch still apply).

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
        plan?: string;
        vmid?: string;
        timeScale?: string;
        clockOrigin?: string;
        timing?: string;
      }) => {
        const vmids = opts.vmid !== undefined ? parseVmidList(opts.vmid) : undefined;
        if (opts.vmid !== undefined && !vmids) {
          io.err(`refit run: --vmid ${opts.vmid} is not a list of vmids like 110,111 or 200-205`);
          setExit(EXIT.invalid);
          return;
        }
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
              ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
              ...(vmids ? { vmids } : {}),
              ...(clock ? { clock } : {}),
              ...(opts.timing ? { timing: JSON.parse(opts.timing) as Partial<Timing> } : {}),
            },
            io,
          ),
        );
      },
    );
}
