import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { copyExample, writeYaml } from "../support/desired.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "refit.js");

/** Runs the real `refit` binary the way a user does. */
async function refit(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("refit CLI", () => {
  it("validates the example desired state: exit 0", async () => {
    const r = await refit(["validate", "desired-state"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("desired-state: 10 objects in 8 files are valid");
  });

  it("rejects a broken copy: exit 2 with file:line:col messages on stderr", async () => {
    const dir = copyExample();
    writeYaml(
      dir,
      "windows.yaml",
      `apiVersion: refit.dev/v1alpha1
kind: MaintenanceWindow
metadata:
  name: weekly-night
spec:
  schedule: "0 1 * * 6"
  duration: forever
  timeZone: Europe/Berlin
  color: blue
`,
    );
    const r = await refit(["validate", "."], dir);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("windows.yaml"))).toEqual([
      'windows.yaml:7:13: MaintenanceWindow/weekly-night spec.duration: must be a duration such as 30s, 5m, 1h30m or 2d (got "forever")',
      "windows.yaml:9:3: MaintenanceWindow/weekly-night spec.color: unknown field (expected one of: schedule, duration, timeZone, description)",
    ]);
    // dns-blackout lived in the replaced file: every plan that refers to it says so where it refers.
    const others = lines.filter((l) => !l.startsWith("windows.yaml"));
    expect(others).toEqual([
      "guest-compose.yaml:38:13: GuestUpdatePlan/compose-stacks spec.blackoutRefs[0].name: refers to MaintenanceWindow/dns-blackout, which does not exist in the desired state",
      "host-patch-pbs.yaml:31:13: HostPatchPlan/pbs spec.blackoutRefs[0].name: refers to MaintenanceWindow/dns-blackout, which does not exist in the desired state",
      "host-patch-pve.yaml:44:13: HostPatchPlan/pve-nodes spec.blackoutRefs[0].name: refers to MaintenanceWindow/dns-blackout, which does not exist in the desired state",
    ]);
    expect(r.stdout).toMatch(/problem\(s\) in \d+ file\(s\); \d+ object\(s\) valid/);
  });

  it("run refuses an invalid desired state: exit 2, the problems listed, and nothing done", async () => {
    const dir = copyExample();
    writeYaml(
      dir,
      "broken.yaml",
      "apiVersion: refit.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: x}\nspec: {schedule: nope, duration: 1h}\n",
    );
    const state = join(dir, "state-not-created");
    const r = await refit(
      ["run", "--once", "--desired", ".", "--state", state, "--kill-switch", join(dir, "STOP")],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^broken\.yaml:4:18: MaintenanceWindow\/x spec\.schedule: /m);
    expect(r.stderr).toContain("nothing was done");
    expect(existsSync(state)).toBe(false);
  });

  it("prints machine-readable results with --output json", async () => {
    const r = await refit(["validate", "desired-state", "--output", "json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; objects: { kind: string; name: string }[] };
    expect(out.valid).toBe(true);
    expect(out.objects).toContainEqual(expect.objectContaining({ kind: "ProxmoxCluster", name: "pve-lab" }));
  });

  it("prints the CRDs", async () => {
    const r = await refit(["crds"]);
    expect(r.code).toBe(0);
    const names = parseAllDocuments(r.stdout).map(
      (d) => (d.toJS() as { metadata: { name: string } }).metadata.name,
    );
    expect(names).toContain("hostpatchplans.refit.dev");
    expect(names).toHaveLength(8);
  });

  it("prints its version", async () => {
    const r = await refit(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([[[]], [["validate"]], [["crds"]]])("has helpful --help for %j", async (cmd) => {
    const r = await refit([...cmd, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: refit/);
    if (cmd.length === 0) expect(r.stdout).toMatch(/validate[\s\S]*crds/);
  });

  it("rejects an unknown command with exit 2 and a suggestion", async () => {
    const r = await refit(["valdate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'valdate'");
    expect(r.stderr).toContain("Did you mean validate?");
  });

  it("rejects an unknown flag with exit 2", async () => {
    const r = await refit(["validate", "--strictest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--strictest'");
  });

  it("exits 2 when run without a command", async () => {
    const r = await refit([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: refit");
  });
});
