/** The demo's closing lines per container, from a GuestUpdatePlan cycle report's section. */
import { describe, expect, it } from "vitest";
import { containerLines } from "../../controller/cli/commands/demo-summary.js";
import type { ContainerReport } from "../../controller/guest-update-plan/report.js";

const base: ContainerReport = {
  vmid: 111,
  name: "homeassistant",
  node: "pve2",
  outcome: "Succeeded",
  backup: { name: "refit-apps-20261206230932", mode: "snapshot" },
  runners: [
    {
      name: "os",
      type: "os",
      result: "Succeeded",
      changes: [{ package: "openssl", from: "3.0.15", to: "3.0.16" }],
    },
    {
      name: "app-venvs",
      type: "pip",
      result: "Succeeded",
      changes: [{ package: "/opt/homeassistant/venv:homeassistant", from: "2026.11.2", to: "2026.11.3" }],
    },
  ],
  health: [{ name: "web", baseline: true, after: true }],
};

describe("demo summary: one container", () => {
  it.each<[string, Partial<ContainerReport>, string | undefined, string[]]>([
    [
      "updated",
      {},
      undefined,
      [
        "  CT 111 homeassistant: updated (os: openssl 3.0.15 → 3.0.16; app-venvs: homeassistant 2026.11.2 → 2026.11.3) behind snapshot refit-apps-20261206230932; health web healthy",
      ],
    ],
    [
      "rolled back: what was restored and which versions run again",
      {
        outcome: "RolledBack",
        rollback: { done: true, reason: "RestartFailed", result: "Succeeded" },
        error: {
          reason: "RestartFailed",
          message: "Restart/services of CT 111 failed with exit code 1 | more",
        },
      },
      undefined,
      [
        "  CT 111 homeassistant: ROLLED BACK (RestartFailed: Restart/services of CT 111 failed with exit code 1)",
        "    restored snapshot refit-apps-20261206230932: runs openssl 3.0.15, homeassistant 2026.11.2 again instead of openssl 3.0.16, homeassistant 2026.11.3; health web healthy",
      ],
    ],
    [
      "blocked, with the reason it was given",
      { outcome: "Blocked", runners: [], health: [] },
      "BackupModeUnsupported: backup.mode vzdump is not carried out by this version",
      [
        "  CT 111 homeassistant: Blocked (BackupModeUnsupported: backup.mode vzdump is not carried out by this version)",
      ],
    ],
    ["up to date", { outcome: "UpToDate" }, undefined, ["  CT 111 homeassistant: up to date"]],
  ])("%s", (_name, over, why, lines) => {
    expect(containerLines({ ...base, ...over }, why)).toEqual(lines);
  });
});
