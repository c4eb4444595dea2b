/**
 * Packages kept back, held and a busy package manager (issue 8 items 5 and 6), as decisions:
 * (spec, status, observation) → transition.
 */
import { describe, expect, it } from "vitest";
import { PHASES } from "../../controller/host-patch/flow.js";
import { commandLine, jobId } from "../../controller/host-patch/commands.js";
import type { Observation } from "../../controller/host-patch/observation.js";
import type { Transition } from "../../controller/host-patch/transition.js";
import { commandError, unavailableFrom } from "../../src/pve/index.js";
import {
  change,
  cluster,
  context,
  guest,
  job,
  node,
  obs,
  planSpec,
  status,
  type NodeShape,
} from "./support.js";

const UPGRADE_ID = jobId(context().hp, "upgrade");
const healthy = cluster({ guests: [guest(100, "pve1")] });
const patchOf = (t: Transition) => (t.kind === "idle" ? {} : (t.patch ?? {}));
const messageOf = (t: Transition): string => (t.kind === "idle" ? "" : (t.message ?? ""));
const lines = (t: Transition): string[] =>
  t.kind === "act" ? t.actions.flatMap((a) => (a.type === "run" ? [commandLine(a.command)] : [])) : [];

function observed(shape: NodeShape): Observation {
  return obs({ node: { ok: true, value: node(shape) }, cluster: healthy });
}

function preflight(o: Observation, spec = planSpec()): Transition {
  return PHASES.Preflight.decide(context({ spec, status: status({ phase: "Preflight" }) }), o);
}

const HOLD = planSpec({ upgrade: { holdPackages: ["pve-manager", "zfsutils-linux"] } });

describe("Preflight: kept-back packages", () => {
  it("a node whose only upgradable packages are kept back is not 'up to date': it says what needs a person", () => {
    const t = preflight(
      observed({ pending: [], keptBack: ["proxmox-ve", "zfsutils-linux"], holds: ["zfsutils-linux"] }),
    );
    expect(t).toMatchObject({ kind: "goto", phase: "Skipped" });
    expect(messageOf(t)).not.toMatch(/^up to date/);
    expect(messageOf(t)).toContain("2 package(s) kept back need a person: proxmox-ve, zfsutils-linux");
    expect(messageOf(t)).toContain("zfsutils-linux is on hold");
    expect(patchOf(t)).toMatchObject({ keptBackPackages: ["proxmox-ve", "zfsutils-linux"] });
  });

  it("kept-back packages beside others: the others are upgraded, the kept-back ones reported", () => {
    const t = preflight(observed({ pending: [change("pve-manager", "8.4.2")], keptBack: ["proxmox-ve"] }));
    expect(t).toMatchObject({ kind: "act", phase: "Upgrading" });
    expect(patchOf(t)).toMatchObject({
      keptBackPackages: ["proxmox-ve"],
      pendingPackages: [{ name: "pve-manager" }],
    });
    expect(messageOf(t)).toContain("1 kept back (proxmox-ve)");
  });
});

describe("Preflight: holdPackages", () => {
  it("holds the plan's packages for the run: recorded before, `apt-mark hold` first in the upgrade job", () => {
    const t = preflight(
      observed({ pending: [change("pve-manager", "8.4.2"), change("libpve-common-perl", "8.3.2")] }),
      HOLD,
    );
    expect(t).toMatchObject({ kind: "act", phase: "Upgrading" });
    expect(patchOf(t)).toMatchObject({
      heldPackages: ["pve-manager"],
      pendingPackages: [{ name: "libpve-common-perl" }],
    });
    const [line] = lines(t);
    expect(line).toMatch(/apt-mark hold pve-manager && .*apt-get update && .*dist-upgrade/);
  });

  it("only what Refit holds is recorded: a package the admin held is not Refit's to release", () => {
    const t = preflight(
      observed({
        pending: [change("pve-manager", "8.4.2"), change("libpve-common-perl", "8.3.2")],
        keptBack: ["zfsutils-linux"],
        holds: ["zfsutils-linux"],
      }),
      HOLD,
    );
    expect(patchOf(t)).toMatchObject({ heldPackages: ["pve-manager"] });
    expect(lines(t)[0]).not.toContain("zfsutils-linux");
  });

  it("when the plan holds everything that is pending, the node is skipped and says so", () => {
    const t = preflight(observed({ pending: [change("pve-manager", "8.4.2")] }), HOLD);
    expect(t).toMatchObject({ kind: "goto", phase: "Skipped" });
    expect(messageOf(t)).toContain("held by the plan (holdPackages): pve-manager");
  });
});

describe("Preflight: a busy or interrupted package manager", () => {
  const busy = commandError(
    ["LC_ALL=C", "apt-get", "-s", "dist-upgrade"],
    {
      exitCode: 100,
      output:
        "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (unattended-upgr)\nN: Be aware that removing the lock file is not a solution and may break your system.\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n",
    },
    "pve1",
  );

  it("the simulation cannot take the dpkg lock: waits, reporting who holds it", () => {
    const value = { ...node({}), pendingUpdates: unavailableFrom(busy) };
    const t = preflight(obs({ node: { ok: true, value }, cluster: healthy }));
    expect(t).toMatchObject({ kind: "wait", reason: "PackageManagerBusy" });
    expect(messageOf(t)).toContain("package manager busy (pid 1234, unattended-upgr)");
  });

  it("apt-get update cannot take the lists lock: waits, reporting who holds it", () => {
    const t = preflight(
      obs({
        index: { ok: false, reason: busy.reason, message: busy.message },
        node: { ok: true, value: node({ pending: [change("a", "2")] }) },
        cluster: healthy,
      }),
    );
    expect(t).toMatchObject({ kind: "wait", reason: "PackageManagerBusy" });
  });

  it("the upgrade waits for the dpkg lock with a bound", () => {
    const t = preflight(observed({ pending: [change("pve-manager", "8.4.2")] }));
    expect(lines(t)[0]).toMatch(/apt-get -y -o DPkg::Lock::Timeout=600 .*dist-upgrade/);
  });

  it("an interrupted dpkg (dpkg --audit non-empty) is repaired with dpkg --configure -a first, and reported", () => {
    const t = preflight(
      observed({ pending: [change("pve-manager", "8.4.2")], audit: ["proxmox-kernel-6.8.12-10-pve-signed"] }),
    );
    expect(t).toMatchObject({ kind: "act", phase: "Upgrading" });
    // The job's shell line starts with the repair.
    const a = t.kind === "act" ? t.actions[0] : undefined;
    expect(a?.type === "run" && a.command.argv[2]).toMatch(
      /^DEBIAN_FRONTEND=noninteractive dpkg --configure -a && /,
    );
    expect(patchOf(t)).toMatchObject({ dpkgRepair: { packages: ["proxmox-kernel-6.8.12-10-pve-signed"] } });
    expect(messageOf(t)).toContain("repairing an interrupted dpkg first");
  });

  it("a healthy dpkg is not touched", () => {
    const t = preflight(observed({ pending: [change("pve-manager", "8.4.2")] }));
    expect(lines(t)[0]).not.toContain("dpkg --configure");
  });
});

describe("Preflight: apt refuses because dpkg was interrupted", () => {
  const interrupted = commandError(
    ["LC_ALL=C", "apt-get", "-s", "dist-upgrade"],
    {
      exitCode: 100,
      output:
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n",
    },
    "pve1",
  );
  const REPAIR_ID = jobId(context().hp, "dpkg-repair");
  const repairing = status({
    phase: "Preflight",
    currentStep: { name: "dpkg-repair", id: REPAIR_ID, startedAt: "t" },
    dpkgRepair: { packages: ["pve-manager"], problems: [], at: "t" },
  });
  const decide = (o: Observation, s = repairing) => PHASES.Preflight.decide(context({ status: s }), o);

  it("the repair runs first, as a job, recorded in status before it starts", () => {
    const value = { ...node({ audit: ["pve-manager"] }), pendingUpdates: unavailableFrom(interrupted) };
    const t = preflight(obs({ node: { ok: true, value }, cluster: healthy }));
    expect(t).toMatchObject({ kind: "act" });
    expect(t.kind === "act" && t.phase).toBeFalsy();
    expect(lines(t)[0]).toMatch(
      /^systemd-run --unit refit-hp-[0-9a-f]{12}-dpkg-repair .*dpkg --configure -a/,
    );
    expect(patchOf(t)).toMatchObject({
      currentStep: { name: "dpkg-repair", id: REPAIR_ID },
      dpkgRepair: { packages: ["pve-manager"] },
    });
    expect(messageOf(t)).toContain("dpkg was interrupted");
  });

  it("a closed gate holds the repair back too", () => {
    const value = {
      ...node({ audit: ["pve-manager"], rootPercent: 97 }),
      pendingUpdates: unavailableFrom(interrupted),
    };
    expect(preflight(obs({ node: { ok: true, value }, cluster: healthy }))).toMatchObject({
      kind: "goto",
      phase: "Blocked",
    });
  });

  it("while it runs only the job is read; running → poll; done → observe again; failed → Failed", () => {
    const ctx = context({ status: repairing });
    expect(PHASES.Preflight.needs(ctx)).toEqual({ jobs: [{ on: "pve1", id: REPAIR_ID }] });
    expect(decide(obs({ jobs: { [REPAIR_ID]: job("running") } }))).toMatchObject({ kind: "wait" });
    const done = decide(obs({ jobs: { [REPAIR_ID]: job("exited", 0) } }));
    expect(done).toMatchObject({ kind: "goto", phase: "Preflight" });
    expect(patchOf(done)).toMatchObject({ currentStep: undefined });
    expect(
      decide(
        obs({ jobs: { [REPAIR_ID]: job("exited", 1, ["dpkg: error processing package pve-manager"]) } }),
      ),
    ).toMatchObject({
      kind: "fail",
      reason: "DpkgRepairFailed",
    });
  });

  it("apt still refusing after this cycle's repair: Failed, not a second repair", () => {
    const value = { ...node({ audit: ["pve-manager"] }), pendingUpdates: unavailableFrom(interrupted) };
    const s = status({
      phase: "Preflight",
      dpkgRepair: { packages: ["pve-manager"], problems: [], at: "t", via: "repair-job" },
    });
    const t = PHASES.Preflight.decide(
      context({ status: s }),
      obs({ node: { ok: true, value }, cluster: healthy }),
    );
    expect(t).toMatchObject({ kind: "fail", reason: "DpkgRepairFailed" });
  });

  it("after the repair the upgrade keeps the report and does not repair again", () => {
    const s = status({
      phase: "Preflight",
      dpkgRepair: { packages: ["pve-manager"], problems: [], at: "t", via: "repair-job" },
    });
    const t = PHASES.Preflight.decide(
      context({ status: s }),
      observed({ pending: [change("pve-manager", "8.4.2")] }),
    );
    expect(t).toMatchObject({ kind: "act", phase: "Upgrading" });
    expect(patchOf(t)).not.toHaveProperty("dpkgRepair");
    const a = t.kind === "act" ? t.actions[0] : undefined;
    expect(a?.type === "run" && a.command.argv[2]).not.toContain("dpkg --configure");
  });
});

describe("Upgrading: holds are released after the job, whatever its outcome", () => {
  const held = status({
    phase: "Upgrading",
    currentStep: { name: "upgrade", id: UPGRADE_ID, startedAt: "t" },
    pendingPackages: [{ name: "libpve-common-perl", to: "8.3.2" }],
    heldPackages: ["pve-manager"],
  });
  const jobs = (j: ReturnType<typeof job>) => ({ [UPGRADE_ID]: j });
  const decide = (o: Observation, s = held) => PHASES.Upgrading.decide(context({ spec: HOLD, status: s }), o);
  const after = (j: ReturnType<typeof job>, shape: NodeShape): Observation =>
    obs({ jobs: jobs(j), node: { ok: true, value: node(shape) } });

  it("done, still held: `apt-mark unhold` of exactly what Refit held", () => {
    const t = decide(after(job("exited", 0), { holds: ["pve-manager", "zfsutils-linux"] }));
    expect(t).toMatchObject({ kind: "act" });
    expect(lines(t)).toEqual(["apt-mark unhold pve-manager"]);
  });

  it("done and released (proven by apt-mark showhold): the record is cleared and the flow goes on", () => {
    const t = decide(
      after(job("exited", 0), { holds: ["zfsutils-linux"], pending: [change("pve-manager", "8.4.2")] }),
    );
    expect(t).toMatchObject({ kind: "goto", phase: "Verifying" });
    expect(patchOf(t)).toMatchObject({ heldPackages: undefined });
    expect("heldPackages" in patchOf(t)).toBe(true);
  });

  it("failed: the holds are released before the node is failed", () => {
    const t = decide(after(job("exited", 100, ["E: broken"]), { holds: ["pve-manager"] }));
    expect(lines(t)).toEqual(["apt-mark unhold pve-manager"]);
    const released = decide(after(job("exited", 100, ["E: broken"]), { holds: [] }));
    expect(released).toMatchObject({ kind: "fail", reason: "UpgradeFailed" });
    expect(patchOf(released)).toMatchObject({ heldPackages: undefined });
  });

  it("holds unreadable: waits rather than guessing", () => {
    const t = decide(after(job("exited", 0), { holds: null }));
    expect(t.kind).toBe("wait");
  });

  it("after a crash before the job started, the job is started with the same holds", () => {
    const t = decide(obs({ jobs: jobs(job("unknown")) }));
    expect(lines(t)[0]).toMatch(/apt-mark hold pve-manager && /);
  });

  it("reads the holds once the job has ended, also when it failed", () => {
    const ctx = context({ spec: HOLD, status: held });
    expect(PHASES.Upgrading.needs(ctx, obs({ jobs: jobs(job("exited", 100)) }))).toEqual({
      node: { pendingUpdates: true },
    });
  });
});

describe("Succeeded with packages kept back", () => {
  it("the end message still says what needs a person", () => {
    const ctx = context({
      status: status({
        phase: "Restoring",
        keptBackPackages: ["proxmox-ve"],
        migrationsToUndo: [],
        shutdowns: [],
      }),
    });
    const t = PHASES.Restoring.decide(ctx, obs({ cluster: healthy }));
    expect(t).toMatchObject({ kind: "goto", phase: "Succeeded" });
    expect(messageOf(t)).toContain("1 package(s) kept back need a person: proxmox-ve");
  });
});
