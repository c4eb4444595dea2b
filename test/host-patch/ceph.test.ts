/**
 * Ceph in the host patch flow, as decision tables: the health gate's effect on Preflight, noout set
 * (recorded, then proven) before the reboot, held while Ceph recovers after the return, unset, and a
 * noout an earlier cycle left finished first.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PHASES } from "../../controller/host-patch/flow.js";
import type { Observation, PatchContext } from "../../controller/host-patch/observation.js";
import type { Transition } from "../../controller/host-patch/transition.js";
import { parseCephHealth, type CephHealth, type CephState, type Observed } from "../../src/pve/index.js";
import { change, cluster, context, guest, node, NOW, obs, planSpec, status, summary } from "./support.js";

const fixture = (name: string): CephHealth =>
  parseCephHealth(
    readFileSync(new URL(`../pve/fixtures/ceph-health-detail.${name}.json.out`, import.meta.url), "utf8"),
  );

const ceph = (health: CephHealth): Observed<CephState> => ({ ok: true, value: { kind: "ceph", health } });
const OK = ceph(fixture("ok"));
/** pve1 down with its noout (the host-down fixture names pve2: renamed to the patched host). */
const renamed = (h: CephHealth, to: string): CephHealth =>
  parseCephHealth(
    JSON.stringify({
      status: h.status,
      checks: Object.fromEntries(
        h.checks.map((c) => [
          c.code,
          {
            severity: c.severity,
            summary: { message: c.summary },
            detail: c.detail.map((m) => ({ message: m.replaceAll("pve2", to) })),
            muted: c.muted,
          },
        ]),
      ),
    }),
  );
const RECOVERING = ceph(renamed(fixture("recovering"), "pve1"));
const ONLY_NOOUT = ceph(
  renamed(
    { status: "HEALTH_WARN", checks: fixture("recovering").checks.filter((c) => c.code === "OSD_FLAGS") },
    "pve1",
  ),
);
/** Another node (pve2) recovering: pve1 must not go down. */
const OTHER_RECOVERING = ceph({
  ...fixture("recovering"),
  checks: fixture("recovering").checks.filter((c) => c.code === "PG_DEGRADED"),
});

interface Row {
  name: string;
  ctx: Partial<PatchContext>;
  obs: Observation;
  expect: Record<string, unknown>;
  check?: (t: Transition) => void;
}

function table(rows: Row[]): void {
  it.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    const ctx = context(row.ctx);
    const t = PHASES[ctx.status.phase ?? "Pending"].decide(ctx, row.obs);
    expect(summary(t)).toMatchObject(row.expect);
    row.check?.(t);
  });
}

const patchOf = (t: Transition) => (t.kind === "idle" ? {} : (t.patch ?? {}));
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const SET = "pve1: ceph --connect-timeout 10 osd set-group noout pve1";
const UNSET = "pve1: ceph --connect-timeout 10 osd unset-group noout pve1";
const rebooting = (over: Parameters<typeof status>[0] = {}) =>
  status({ phase: "Rebooting", rebootDecision: { required: true, reasons: ["kernel"] }, ...over });
const verifying = (over: Parameters<typeof status>[0] = {}) =>
  status({
    phase: "Verifying",
    rebootDecision: { required: true, reasons: ["kernel"] },
    bootIdBeforeReboot: "boot-a",
    ...over,
  });
const up = { ok: true as const, value: node({ bootId: "boot-a" }) };

describe("Rebooting on a Ceph cluster", () => {
  table([
    {
      name: "noout is recorded and set before anything else; no reboot yet",
      ctx: { status: rebooting() },
      obs: obs({ node: up, ceph: OK }),
      expect: { kind: "act", commands: [SET] },
      check: (t) => expect(patchOf(t).cephNoout).toEqual({ cycle: "c1", requestedAt: at(0) }),
    },
    {
      name: "Ceph shows the node's noout: the reboot goes, setAt recorded with it",
      ctx: { status: rebooting({ cephNoout: { cycle: "c1", requestedAt: at(5_000) } }) },
      obs: obs({ node: up, ceph: ONLY_NOOUT }),
      expect: {
        kind: "act",
        phase: "AwaitingReturn",
        commands: ["notify BeforeReboot", "pve1: systemctl reboot"],
      },
      check: (t) => {
        expect(patchOf(t).cephNoout).toEqual({ cycle: "c1", requestedAt: at(5_000), setAt: at(0) });
        const notice = t.kind === "act" ? t.actions.find((a) => a.type === "notify") : undefined;
        expect(notice?.type === "notify" && notice.notice.details).toMatchObject({
          ceph: "noout set on pve1",
        });
      },
    },
    {
      name: "requested, not shown yet: waits and does not reboot",
      ctx: { status: rebooting({ cephNoout: { cycle: "c1", requestedAt: at(1_000) } }) },
      obs: obs({ node: up, ceph: OK }),
      expect: { kind: "wait", reason: "SettingNoout" },
    },
    {
      name: "crash: requested long ago and never shown → sent again",
      ctx: { status: rebooting({ cephNoout: { cycle: "c1", requestedAt: at(600_000) } }) },
      obs: obs({ node: up, ceph: OK }),
      expect: { kind: "act", commands: [SET] },
    },
    {
      name: "another node's PGs still recovering: nothing goes down",
      ctx: { status: rebooting() },
      obs: obs({ node: up, ceph: OTHER_RECOVERING }),
      expect: { kind: "wait", reason: "CephRecovering" },
    },
    {
      name: "Ceph set up but unreadable: fail closed, no reboot",
      ctx: { status: rebooting() },
      obs: obs({
        node: up,
        ceph: { ok: false, reason: "CommandFailed", message: "[errno 110] RADOS timed out", retryable: true },
      }),
      expect: { kind: "wait", reason: "CephUnreadable" },
    },
    {
      name: "ceph.noout: false reboots without the flag",
      ctx: { status: rebooting(), spec: planSpec({ ceph: { noout: false } }) },
      obs: obs({ node: up, ceph: OK }),
      expect: {
        kind: "act",
        phase: "AwaitingReturn",
        commands: ["notify BeforeReboot", "pve1: systemctl reboot"],
      },
    },
  ]);
});

describe("Verifying on a Ceph cluster: noout until Ceph has recovered", () => {
  const rec = { cycle: "c1", requestedAt: at(300_000), setAt: at(290_000) };
  table([
    {
      name: "back, PGs still degraded: waits; noout stays, nothing else moves",
      ctx: { status: verifying({ cephNoout: rec }) },
      obs: obs({ node: { ok: true, value: node() }, ceph: RECOVERING }),
      expect: { kind: "wait", reason: "CephRecovering" },
    },
    {
      name: "recovered (only its own noout left): unset is recorded and sent",
      ctx: { status: verifying({ cephNoout: rec }) },
      obs: obs({ node: { ok: true, value: node() }, ceph: ONLY_NOOUT }),
      expect: { kind: "act", commands: [UNSET] },
      check: (t) => expect(patchOf(t).cephNoout).toEqual({ ...rec, unsetRequestedAt: at(0) }),
    },
    {
      name: "the flag is gone: Restoring, unsetAt recorded",
      ctx: { status: verifying({ cephNoout: { ...rec, unsetRequestedAt: at(2_000) } }) },
      obs: obs({ node: { ok: true, value: node() }, ceph: OK }),
      expect: { kind: "goto", phase: "Restoring" },
      check: (t) =>
        expect(patchOf(t).cephNoout).toEqual({ ...rec, unsetRequestedAt: at(2_000), unsetAt: at(0) }),
    },
    {
      name: "without a noout (ceph.noout: false) the return still waits for Ceph to recover",
      ctx: { status: verifying(), spec: planSpec({ ceph: { noout: false } }) },
      obs: obs({ node: { ok: true, value: node() }, ceph: OTHER_RECOVERING }),
      expect: { kind: "wait", reason: "CephRecovering" },
    },
    {
      name: "no Ceph: verified as before",
      ctx: { status: verifying() },
      obs: obs({ node: { ok: true, value: node() } }),
      expect: { kind: "goto", phase: "Restoring" },
    },
    {
      name: "Ceph unreadable after the return: waits, noout kept",
      ctx: { status: verifying({ cephNoout: rec }) },
      obs: obs({
        node: { ok: true, value: node() },
        ceph: { ok: false, reason: "Unreachable", message: "timed out", retryable: true },
      }),
      expect: { kind: "wait", reason: "CephUnreadable" },
    },
  ]);

  it("reads Ceph in Verifying, Rebooting and Preflight", () => {
    expect(PHASES.Verifying.needs(context({ status: verifying() })).ceph).toBe(true);
    expect(PHASES.Rebooting.needs(context({ status: rebooting() })).ceph).toBe(true);
    expect(PHASES.Preflight.needs(context()).ceph).toBe(true);
  });
});

describe("Preflight on a Ceph cluster", () => {
  const pending = { ok: true as const, value: node({ pending: [change("pve-manager", "8.4.2")] }) };
  const healthy = cluster({ guests: [guest(100, "pve1")] });
  table([
    {
      name: "a noout an earlier cycle left (not unset) is unset first, once Ceph has recovered",
      ctx: {
        status: status({
          phase: "Preflight",
          cephNoout: { cycle: "c0", requestedAt: at(86_400_000), setAt: at(86_000_000) },
        }),
      },
      obs: obs({ node: pending, cluster: healthy, ceph: ONLY_NOOUT }),
      expect: { kind: "act", commands: [UNSET] },
    },
    {
      name: "Ceph recovering after another node: the gate closes (Blocked), nothing starts",
      ctx: {},
      obs: obs({ node: pending, cluster: healthy, ceph: OTHER_RECOVERING }),
      expect: { kind: "goto", phase: "Blocked" },
      check: (t) =>
        expect(patchOf(t).gates?.find((g) => g.name === "cephHealthy")).toMatchObject({ passed: false }),
    },
    {
      name: "HEALTH_OK: the upgrade starts",
      ctx: {},
      obs: obs({ node: pending, cluster: healthy, ceph: OK }),
      expect: { kind: "act", phase: "Upgrading" },
    },
  ]);
});
