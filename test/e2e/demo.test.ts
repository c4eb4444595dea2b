/**
 * `npm start` (refit demo): the simulator with the example fleet (test/sim/fleets/example.yaml) and
 * the controller on desired-state/. The host plan patches the nodes first; then the guest plans run
 * (they are ordered after it): paperless is updated, Home Assistant's new version fails to restart
 * (on purpose, a fault in the fleet) and is rolled back, photos (113) is excluded; the compose plan
 * picks the stacks 300-349 after the apps plan. The summary tells a newcomer what was restored.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runDemo } from "../../controller/cli/commands/demo.js";
import { readState } from "../../controller/runtime/state-reader.js";
import { cliIo } from "../support/recording.js";

const ROOT = join(import.meta.dirname, "..", "..");
const webhook = process.env.REFIT_WEBHOOK_URL;
afterEach(() => {
  // The demo points the example's webhook channel at its own receiver.
  if (webhook === undefined) delete process.env.REFIT_WEBHOOK_URL;
  else process.env.REFIT_WEBHOOK_URL = webhook;
});

const phaseOf = (objects: Awaited<ReturnType<typeof readState>>, kind: string) =>
  objects
    .filter((o) => o.kind === kind)
    .map((o) => [o.spec.vmid, o.status?.phase] as const)
    .sort((a, b) => Number(a[0]) - Number(b[0]));

describe("refit demo (npm start)", () => {
  it("patches the hosts, then the guest plans converge with one update rolled back on purpose", async () => {
    const state = mkdtempSync(join(tmpdir(), "refit-demo-test-"));
    const { io, out } = cliIo();
    const code = await runDemo(
      {
        fleet: join(ROOT, "test", "sim", "fleets", "example.yaml"),
        desired: join(ROOT, "desired-state"),
        timeScale: 60,
        state,
      },
      io,
    );
    const text = out.join("\n");
    expect(code, text).toBe(0);
    expect(out.at(-1)).toBe("Converged.");

    // The host plan came first: the apps plan started only after it had patched the nodes.
    const hostsDone = out.findIndex((l) => /PlanSucceeded: HostPatchPlan\/pve-nodes: 3 patched/.test(l));
    const appsStarted = out.findIndex((l) => /PlanStarted: GuestUpdatePlan\/apps: .* over 110, 111$/.test(l));
    expect(hostsDone, text).toBeGreaterThan(-1);
    expect(appsStarted, text).toBeGreaterThan(hostsDone);

    const objects = await readState(state);
    // 113 carries the tag `apps` but the plan excludes it.
    expect(phaseOf(objects, "GuestUpdate").filter(([vmid]) => Number(vmid) < 300)).toEqual([
      [110, "Succeeded"],
      [111, "RolledBack"],
    ]);
    // The compose plan selected exactly the stacks in 300-349, and began after the apps plan ended.
    expect(
      phaseOf(objects, "GuestUpdate")
        .filter(([vmid]) => Number(vmid) >= 300)
        .map(([v]) => v),
    ).toEqual([300, 301]);
    const cycle = (name: string) =>
      objects.find((o) => o.kind === "GuestUpdatePlan" && o.metadata.name === name)?.status?.lastCycle as
        { startedAt: string; finishedAt?: string } | undefined;
    expect(Date.parse(cycle("compose-stacks")?.startedAt ?? "")).toBeGreaterThanOrEqual(
      Date.parse(cycle("apps")?.finishedAt ?? ""),
    );

    // The rollback is loud and says what was restored.
    expect(text).toMatch(
      /\[webhook\] ERROR RolledBack: CT 111 rolled back to refit-apps-\d{14} after: .*homeassistant/,
    );
    expect(text).toMatch(
      /apps: Degraded in \d+s sim time — 1 updated, 0 up to date, 1 rolled back, 0 failed/,
    );
    expect(text).toMatch(
      /CT 110 paperless: updated \(os: libssl3 3\.0\.15-1~deb12u1 → 3\.0\.16-1~deb12u1, openssl 3\.0\.15-1~deb12u1 → 3\.0\.16-1~deb12u1; app-venvs: django 5\.1\.4 → 5\.1\.5\) behind snapshot refit-apps-\d{14}; health web healthy/,
    );
    expect(text).toMatch(
      /CT 111 homeassistant: ROLLED BACK \(RestartFailed: .*homeassistant\.service failed/,
    );
    expect(text).toMatch(
      /restored snapshot refit-apps-\d{14}: runs openssl 3\.0\.15-1~deb12u1, aiohttp 3\.11\.10, homeassistant 2026\.11\.2 again instead of .*; health web healthy/,
    );
    // The host plan's report is the cycle that patched, not a later one that found nothing to do.
    expect(text).toMatch(
      /pve-nodes: Succeeded in \d+s sim time — 3 patched, 0 up to date, 0 failed, 2 reboot\(s\)/,
    );
  }, 240_000);
});
