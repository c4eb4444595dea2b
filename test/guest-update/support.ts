/** Builders for the guest update decisions: a context, small in-test runner plugins, observations. */
import { effectiveGuestPolicy, type EffectiveGuestPolicy } from "../../src/api/guest-policy.js";
import type { HealthResult } from "../../src/api/guest-update.js";
import type { RunnerType } from "../../src/api/runners.js";
import type { RunnerPlugin, RunnerStep } from "../../src/runners/contract.js";
import type { JobStatus } from "../../src/ssh/index.js";
import { DEFAULT_TIMING } from "../../controller/context.js";
import type { GuestContext, Observation } from "../../controller/guest-update/observation.js";
import { emptyStatus, type Status, type Transition } from "../../controller/guest-update/transition.js";

export const NOW = Date.parse("2026-12-01T02:00:00Z");
export const iso = (ms: number): string => new Date(ms).toISOString();

const step = (id: string, argv: string[], job = false): RunnerStep => ({
  id,
  argv,
  timeoutMs: 60_000,
  ...(job ? { job } : {}),
});

/**
 * A plugin shaped like an OS runner: `list` prints `name from to` lines, a deny list holds packages
 * for the run and releases them afterwards.
 */
export function fakePlugin(type: RunnerType): RunnerPlugin {
  return {
    type,
    detect: () => [step("detect", ["true"])],
    applies: (_s, _t, r) => r[0]?.exitCode === 0,
    list: () => [step("list", ["list-updates"])],
    pending: (_s, _t, r) => {
      if (r[0]?.exitCode !== 0) throw new Error("listing failed");
      return (r[0]?.stdout ?? "")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [pkg, from, to] = l.split(" ");
          return { package: pkg ?? "", from: from ?? "", to: to ?? "" };
        });
    },
    hold: (s) =>
      "packages" in s && s.packages.deny.length > 0 ? [step("hold", ["hold", ...s.packages.deny], true)] : [],
    apply: (_s, _t, pending) => [step("upgrade", ["upgrade", ...pending.map((p) => p.package)], true)],
    release: (s) =>
      "packages" in s && s.packages.deny.length > 0
        ? [step("release", ["unhold", ...s.packages.deny], true)]
        : [],
    installed: () => [step("installed", ["list-installed"])],
    changes: (_s, _t, before) => [...before],
  };
}

export const plugins = (type: RunnerType): RunnerPlugin | undefined =>
  type === "custom" ? undefined : fakePlugin(type);

export function policy(over: Record<string, unknown> = {}): EffectiveGuestPolicy {
  return effectiveGuestPolicy.parse({ runners: [{ type: "os" }], ...over });
}

export function context(
  over: {
    policy?: EffectiveGuestPolicy;
    status?: Partial<Status>;
    now?: number;
    halt?: GuestContext["halt"];
  } = {},
): GuestContext {
  return {
    gu: {
      metadata: { name: "apps-110", generation: 1 },
      spec: {
        planRef: { name: "apps" },
        clusterRef: { name: "lab" },
        vmid: 110,
        node: "pve1",
        type: "lxc",
        cycle: "c1",
        policy: over.policy ?? policy(),
      },
    },
    node: "pve1",
    status: { ...emptyStatus(), phaseSince: iso(NOW - 1000), startedAt: iso(NOW - 60_000), ...over.status },
    now: over.now ?? NOW,
    timing: DEFAULT_TIMING,
    runners: plugins,
    ...(over.halt ? { halt: over.halt } : {}),
  };
}

export function guest(over: { running?: boolean; lock?: string } = {}): Observation["guest"] {
  return {
    ok: true,
    value: {
      running: over.running ?? true,
      ...(over.lock ? { lock: over.lock } : {}),
      target: { vmid: 110, ostype: "debian", unprivileged: true },
    },
  };
}

export const GIB = 1024 ** 3;

export function disk(freeGiB = 10, sizeGiB = 20): Observation["disk"] {
  const size = sizeGiB * GIB;
  const avail = freeGiB * GIB;
  return {
    ok: true,
    value: {
      filesystem: "/dev/loop0",
      mountpoint: "/",
      sizeBytes: size,
      usedBytes: size - avail,
      availableBytes: avail,
      usedPercent: 50,
      freeGiB,
    },
  };
}

export function obs(over: Partial<Observation> = {}): Observation {
  return { jobs: {}, ...over };
}

export function job(state: JobStatus["state"], exitCode?: number, log: string[] = []): JobStatus {
  return { state, log, ...(exitCode !== undefined ? { exitCode } : {}) };
}

export function health(name: string, healthy: boolean): HealthResult {
  return { name, type: "http", healthy, at: iso(NOW), ...(healthy ? {} : { message: "HTTP 503" }) };
}

/** One line per transition for table rows: kind, phase or reason, and the actions' what. */
export function summary(t: Transition): string {
  if (t.kind === "idle") return "idle";
  if (t.kind === "goto") return t.phase === "Blocked" ? `goto Blocked ${t.reason ?? ""}` : `goto ${t.phase}`;
  if (t.kind === "wait") return `wait ${t.reason}`;
  if (t.kind === "fail") return `fail ${t.reason}`;
  return `act ${t.actions.map((a) => (a.type === "run" ? a.what : a.notice.event)).join(", ")}`;
}
