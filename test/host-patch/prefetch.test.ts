/**
 * Prefetch (issue 8): a node waiting for its turn downloads its packages ahead as a remote job, at
 * most upgrade.prefetch.maxParallel nodes of a cluster at a time; its turn waits for a download
 * still running and is never failed by one that failed.
 */
import { describe, expect, it } from "vitest";
import type { HostPatch } from "../../src/api/host-patch.js";
import { PHASES } from "../../controller/host-patch/flow.js";
import { commandLine, jobId, PREFETCH_FRESH_MS } from "../../controller/host-patch/commands.js";
import { prefetchSlot } from "../../controller/host-patch/turn.js";
import type { Transition } from "../../controller/host-patch/transition.js";
import { change, cluster, context, job, node, NOW, obs, planSpec, status } from "./support.js";

const WAITING = { turn: { ok: false as const, message: "waiting for pve1 to finish first (rolling order)" } };
const PREFETCH_ID = jobId(context().hp, "prefetch");
const running = { jobId: PREFETCH_ID, startedAt: "2026-12-01T01:59:00.000Z", state: "Running" as const };

function decide(over: Parameters<typeof context>[0], o = obs()): Transition {
  const ctx = context(over);
  return PHASES.Preflight.decide(ctx, o);
}

describe("prefetch while a node waits for its turn", () => {
  it("starts apt-get update && apt-get -y --download-only dist-upgrade as a job, recorded in status, and keeps waiting", () => {
    const t = decide({ ...WAITING, prefetchSlot: true });
    expect(t.kind).toBe("act");
    if (t.kind !== "act") return;
    expect(t.phase).toBeUndefined();
    expect(t.reason).toBe("WaitingForTurn");
    expect(t.patch?.prefetch).toMatchObject({ jobId: PREFETCH_ID, state: "Running" });
    const a = t.actions[0]!;
    expect(a.type === "run" && a.command.job?.id).toBe(PREFETCH_ID);
    expect(a.type === "run" && commandLine(a.command)).toContain(
      "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y --download-only dist-upgrade",
    );
    // A download that cannot be started is not a failure of the node.
    expect(a.type === "run" && a.tolerateFailure).toBe(true);
  });

  it("starts none without a free slot, when disabled, or for a node published up to date", () => {
    expect(decide({ ...WAITING, prefetchSlot: false }).kind).toBe("wait");
    const off = planSpec({ upgrade: { prefetch: { enabled: false } } });
    expect(decide({ ...WAITING, prefetchSlot: true, spec: off }).kind).toBe("wait");
    const published = { pendingUpdates: 0, observedAt: "2026-12-01T01:58:00.000Z" };
    expect(decide({ ...WAITING, prefetchSlot: true, published }).kind).toBe("wait");
  });

  it("starts one only once, and records its end while the node still waits", () => {
    const ctx = { ...WAITING, prefetchSlot: true, status: status({ prefetch: running }) };
    expect(PHASES.Preflight.needs(context(ctx))).toEqual({ jobs: [{ on: "pve1", id: PREFETCH_ID }] });
    expect(decide(ctx, obs({ jobs: { [PREFETCH_ID]: job("running") } })).kind).toBe("wait");
    const t = decide(ctx, obs({ jobs: { [PREFETCH_ID]: job("exited", 0) } }));
    expect(t.kind === "wait" && t.patch?.prefetch?.state).toBe("Done");
  });

  it("counts the cluster's running downloads against maxParallel", () => {
    const hp = (name: string, state?: "Running" | "Done"): HostPatch =>
      ({
        metadata: { name },
        spec: { host: name },
        status: state ? { prefetch: { ...running, state } } : {},
      }) as unknown as HostPatch;
    const siblings = [hp("a", "Running"), hp("b", "Running"), hp("c", "Done"), hp("me")];
    expect(prefetchSlot(hp("me"), siblings, 2)).toBe(false);
    expect(prefetchSlot(hp("me"), siblings, 3)).toBe(true);
  });
});

describe("the node's turn after a prefetch", () => {
  const pendingNode = obs({
    node: { ok: true, value: node({ pending: [change("pve-manager", "8.4.2")] }) },
    cluster: cluster(),
  });

  it("waits for a download still running (its apt-get update holds the lists lock) without reading the node", () => {
    const ctx = context({ status: status({ prefetch: running }) });
    const first = obs({ jobs: { [PREFETCH_ID]: job("running") } });
    expect(PHASES.Preflight.needs(ctx, first)).toEqual({ jobs: [{ on: "pve1", id: PREFETCH_ID }] });
    const t = PHASES.Preflight.decide(ctx, first);
    expect(t.kind === "wait" && t.requeue).toBe("poll");
  });

  it("upgrades after a download that failed, and says so in status", () => {
    const ctx = context({ status: status({ prefetch: running }) });
    const o = { ...pendingNode, jobs: { [PREFETCH_ID]: job("failed", 100, ["E: Failed to fetch"]) } };
    const t = PHASES.Preflight.decide(ctx, o);
    expect(t.kind === "act" && t.phase).toBe("Upgrading");
    expect(t.kind === "act" && t.patch?.prefetch?.state).toBe("Failed");
    expect(t.kind === "act" && t.patch?.prefetch?.message).toContain(
      "the upgrade downloads the packages itself",
    );
  });

  it("does not refresh the package lists again after a download that refreshed them", () => {
    const done = context({ status: status({ prefetch: { ...running, state: "Done" } }) });
    expect(PHASES.Preflight.needs(done, obs()).refreshIndex).toBe(false);
    expect(PHASES.Preflight.needs(context(), obs()).refreshIndex).toBe(true);
  });
});

describe("the upgrade after a finished prefetch installs what it fetched", () => {
  const pending = obs({
    node: { ok: true, value: node({ pending: [change("pve-manager", "8.4.2")] }) },
    cluster: cluster(),
  });
  const upgradeLine = (finishedAgoMs: number | undefined, state: "Done" | "Failed" = "Done"): string => {
    const prefetch =
      finishedAgoMs === undefined
        ? undefined
        : { ...running, state, finishedAt: new Date(NOW - finishedAgoMs).toISOString() };
    const t = decide({ status: status({ phase: "Preflight", ...(prefetch ? { prefetch } : {}) }) }, pending);
    const a = t.kind === "act" ? t.actions[0] : undefined;
    return a?.type === "run" ? commandLine(a.command) : "";
  };

  it("skips its own apt-get update when this cycle's download ended within PREFETCH_FRESH_MS", () => {
    expect(upgradeLine(5 * 60_000)).not.toContain("apt-get update");
    expect(upgradeLine(5 * 60_000)).toContain("dist-upgrade");
  });

  it("refreshes the index as usual without a download, after a failed one, or one older than the bound", () => {
    expect(upgradeLine(undefined)).toContain("apt-get update && ");
    expect(upgradeLine(5 * 60_000, "Failed")).toContain("apt-get update && ");
    expect(upgradeLine(PREFETCH_FRESH_MS + 60_000)).toContain("apt-get update && ");
  });
});
