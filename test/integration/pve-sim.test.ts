/**
 * Every read src/pve offers, sent by the real SshPool over real SSH (host keys verified against the
 * simulator's known_hosts) to the simulated three-node cluster, parsed by src/pve's parsers. The
 * simulator is not changed by anything here, so one instance serves the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import {
  PveReader,
  isUpToDate,
  kernelUpdatePending,
  observeCluster,
  observeNode,
  observePbs,
  storageIndex,
  type Observed,
} from "../../src/pve/index.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SshPool, SshReason, bytesSource } from "../../src/ssh/index.js";
import { CountingExec, simExec, simTarget } from "../support/sim-ssh.js";

const FLEET = new URL("../sim/fleets/three-node.yaml", import.meta.url).pathname;
const PVE_SERVICES = ["pve-cluster", "pvedaemon", "pveproxy", "pvestatd", "corosync"];
const PBS_SERVICES = ["proxmox-backup", "proxmox-backup-proxy"];

let sim: SimHandle;
let pool: SshPool;
const extraPools: SshPool[] = [];
const reader = (host: string): PveReader => new PveReader(simExec(pool, sim, host));

beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(50) });
  pool = new SshPool();
});

afterAll(async () => {
  pool?.close();
  for (const p of extraPools) p.close();
  await sim?.stop();
});

/** The parts of an observation that came back unavailable, with their reasons (expected: none). */
function unavailableParts(obs: object): string[] {
  return (Object.entries(obs) as [string, Observed<unknown> | string | undefined][]).flatMap(([k, v]) =>
    typeof v === "object" && !v.ok ? [`${k}: ${v.reason}: ${v.message}`] : [],
  );
}

describe("PveReader against the simulator", () => {
  it("reads cluster status, votes and quorum", async () => {
    const r = reader("pve1");
    const status = await r.clusterStatus();
    expect(status.cluster).toMatchObject({ name: "pve-lab", nodes: 3, quorate: true });
    expect(status.nodes.map((n) => [n.name, n.online, n.local])).toEqual([
      ["pve1", true, true],
      ["pve2", true, false],
      ["pve3", true, false],
    ]);
    const votes = await r.pvecmStatus();
    expect(votes).toMatchObject({ clusterName: "pve-lab", quorate: true, totalVotes: 3, quorum: 2 });
    // pvecm's membership list names members by their corosync address, as real PVE prints it.
    expect(votes.members.map((m) => [m.name, m.votes, m.local])).toEqual([
      ["192.168.50.11", 1, true],
      ["192.168.50.12", 1, false],
      ["192.168.50.13", 1, false],
    ]);
    const quorum = await r.quorum();
    expect(quorum.kind).toBe("cluster");
    if (quorum.kind === "cluster") expect(quorum.votes?.expectedVotes).toBe(3);
  });

  it("reads cluster resources, keeping pool and sdn rows", async () => {
    const res = await reader("pve2").resources();
    expect(res.nodes.map((n) => [n.node, n.status])).toEqual([
      ["pve1", "online"],
      ["pve2", "online"],
      ["pve3", "online"],
    ]);
    expect(res.guests.map((g) => g.vmid).sort()).toEqual([100, 101, 102, 110, 200, 201, 202, 203]);
    expect(res.guests.find((g) => g.vmid === 101)).toMatchObject({
      type: "qemu",
      node: "pve1",
      status: "running",
      hastate: "started",
      tags: ["db", "prod"],
      pool: "prod",
    });
    expect(res.guests.find((g) => g.vmid === 202)).toMatchObject({ type: "lxc", status: "stopped" });
    expect(new Set(res.other.map((o) => o.type))).toEqual(new Set(["pool", "sdn"]));
    const index = storageIndex(res);
    expect(index.get("ceph-vm")).toBe(true);
    expect(index.get("local-zfs")).toBe(false);
  });

  it("reads a node's status, boot id, kernels, reboot flag, disk, ZFS, tasks and version", async () => {
    const r = reader("pve1");
    const status = await r.nodeStatus("pve1");
    expect(status).toMatchObject({ kernelRelease: "6.8.12-9-pve", cpus: 16 });
    expect(status.pveversion).toMatch(/^pve-manager\/8\.4\.1\//);
    expect(status.loadavg).toHaveLength(3);

    expect(await r.bootId()).toBe(sim.snapshot().hosts.pve1?.bootId);
    expect(await r.runningKernel()).toBe("6.8.12-9-pve");
    const kernels = await r.bootKernels();
    expect(kernels.automatic).toEqual(expect.arrayContaining(["6.8.12-8-pve", "6.8.12-9-pve"]));
    expect(kernels.pinned).toBeUndefined();
    expect(await r.rebootFlag()).toEqual({ required: false, packages: [] });

    const disk = await r.rootDisk();
    expect(disk.mountpoint).toBe("/");
    expect(disk.sizeBytes).toBe(100 * 1024 ** 3);
    expect(disk.usedBytes).toBe(14 * 1024 ** 3);
    expect(await r.zfsHealth()).toEqual({ state: "healthy" });
    expect(await r.activeTasks("pve1")).toEqual([]);
    expect(await r.pveVersion()).toMatchObject({ version: "8.4.1", major: 8, runningKernel: "6.8.12-9-pve" });
  });

  it("simulates the upgrade with apt-get -s: pending on pve1, nothing on pve3", async () => {
    const pending = await reader("pve1").pendingUpdates();
    expect(kernelUpdatePending(pending)).toBe(true);
    expect(pending.changes.find((c) => c.package === "pve-manager")).toMatchObject({
      kind: "upgrade",
      oldVersion: "8.4.1",
      newVersion: "8.4.2",
    });
    expect(pending.summary.upgraded + pending.summary.newlyInstalled).toBe(pending.changes.length);
    expect(isUpToDate(await reader("pve3").pendingUpdates())).toBe(true);
  });

  it("reads the HA manager status and current HA view", async () => {
    const r = reader("pve3");
    const manager = await r.haManagerStatus();
    expect(manager.configured).toBe(true);
    expect(manager.nodeStatus).toEqual({ pve1: "online", pve2: "online", pve3: "online" });
    expect(manager.services["vm:101"]).toEqual({ node: "pve1", state: "started" });
    expect(manager.quorate).toBe(true);
    const current = await r.haCurrent();
    expect(current.length).toBeGreaterThan(0);
    expect(JSON.stringify(current)).toContain("vm:101");
  });

  it("reads guest configs with their local disks and devices, and guest status", async () => {
    const r = reader("pve1");
    const storages = storageIndex(await r.resources());
    const web = await r.guestConfig("pve1", "qemu", 100, storages);
    expect(web).toMatchObject({ kind: "qemu", vmid: 100, name: "web1", onboot: true, memoryMiB: 4096 });
    expect(web.disks.length).toBe(1);
    expect(web.localDisks).toEqual([]);
    expect(web.localDevices).toEqual([]);

    const gpu = await reader("pve2").guestConfig("pve2", "qemu", 102, storages);
    expect(gpu.localDisks.map((d) => d.storage)).toEqual(["local-zfs"]);
    expect(gpu.localDevices).toEqual([
      expect.objectContaining({ key: "hostpci0", value: "0000:41:00.0,pcie=1" }),
    ]);

    const app = await r.guestConfig("pve1", "lxc", 200, storages);
    expect(app).toMatchObject({ kind: "lxc", vmid: 200, name: "app1" });
    expect(app.localDisks.map((d) => d.key)).toEqual(["rootfs"]);

    expect(await r.guestStatus("pve1", "qemu", 101)).toMatchObject({
      status: "running",
      haManaged: true,
      haState: "started",
    });
    expect(await reader("pve3").guestStatus("pve3", "lxc", 202)).toMatchObject({
      status: "stopped",
      haManaged: false,
    });
  });

  it("lists a guest's snapshots (none yet: only the current state)", async () => {
    const list = await reader("pve1").snapshots("qemu", 100);
    expect(list.snapshots).toEqual([]);
    expect(list.hasCurrent).toBe(true);
  });

  it("finds the PBS on its VM host, its versions and running backup, and nothing of PBS on a node", async () => {
    const pbs = reader("pbs1");
    expect(await pbs.pbsPresent()).toBe(true);
    const versions = await pbs.pbsVersions();
    expect(versions.find((v) => v.package === "proxmox-backup-server")?.version).toMatch(/^3\.4\.1/);
    const running = await pbs.pbsRunningTasks();
    expect(running.map((t) => [t.workerType, t.workerId])).toEqual([["backup", "store1:vm/100"]]);
    expect(await reader("pve1").pbsPresent()).toBe(false);
  });

  it("reads whether services are active and enabled", async () => {
    expect(await reader("pbs1").servicesState(PBS_SERVICES)).toEqual({
      "proxmox-backup": { active: "active", enabled: "enabled" },
      "proxmox-backup-proxy": { active: "active", enabled: "enabled" },
    });
    const active = await reader("pve2").servicesActive(PVE_SERVICES);
    expect(Object.values(active)).toEqual(PVE_SERVICES.map(() => "active"));
    const enabled = await reader("pve2").servicesEnabled([...PVE_SERVICES, "no-such-unit"]);
    expect(enabled["pveproxy"]).toBe("enabled");
    expect(enabled["no-such-unit"]).not.toBe("enabled");
  });
});

describe("host keys are verified against the simulator's known_hosts", () => {
  function poolTrusting(knownHosts: string): PveReader {
    const target = simTarget(sim, "pve1");
    const p = new SshPool();
    extraPools.push(p);
    return new PveReader(p.host({ ...target, knownHosts: bytesSource("test known_hosts", knownHosts) }));
  }

  it("refuses pve1 when known_hosts records another host's key for its address (HostKeyMismatch)", async () => {
    const pve1 = sim.host("pve1");
    const pve2 = sim.host("pve2");
    const forged = `[${pve1.address}]:${pve1.port} ${pve2.hostPublicKey}\n`;
    const err = await poolTrusting(forged)
      .bootId()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: SshReason.HostKeyMismatch, retryable: false });
  });

  it("refuses a host known_hosts does not list (HostKeyUnknown)", async () => {
    const pve2 = sim.host("pve2");
    const err = await poolTrusting(`[${pve2.address}]:${pve2.port} ${pve2.hostPublicKey}\n`)
      .bootId()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: SshReason.HostKeyUnknown, retryable: false });
  });
});

describe("batched observations: one round trip each", () => {
  it("observeNode reads everything about a node in one exec", async () => {
    const exec = new CountingExec(simExec(pool, sim, "pve1"));
    const obs = await observeNode(exec, "pve1", { pendingUpdates: true });
    expect(exec.count).toBe(1);
    expect(unavailableParts(obs)).toEqual([]);
    if (!obs.bootId.ok || !obs.reboot.ok || !obs.pendingUpdates?.ok) throw new Error("unreachable");
    expect(obs.bootId.value).toBe(sim.snapshot().hosts.pve1?.bootId);
    expect(obs.reboot.value).toMatchObject({ needed: false, runningKernel: "6.8.12-9-pve" });
    expect(kernelUpdatePending(obs.pendingUpdates.value)).toBe(true);
  });

  it("observeCluster reads status, votes, resources and HA in one exec", async () => {
    const exec = new CountingExec(simExec(pool, sim, "pve2"));
    const obs = await observeCluster(exec);
    expect(exec.count).toBe(1);
    expect(unavailableParts(obs)).toEqual([]);
    if (!obs.quorum.ok || !obs.resources.ok) throw new Error("unreachable");
    expect(obs.quorum.value).toMatchObject({ kind: "cluster", name: "pve-lab", quorate: true });
    expect(obs.resources.value.guests).toHaveLength(8);
  });

  it("observePbs reads a PBS host in one exec", async () => {
    const exec = new CountingExec(simExec(pool, sim, "pbs1"));
    const obs = await observePbs(exec);
    expect(exec.count).toBe(1);
    expect(unavailableParts(obs)).toEqual([]);
    if (!obs.runningTasks.ok || !obs.services.ok || !obs.bootId.ok) throw new Error("unreachable");
    expect(obs.runningTasks.value.map((t) => t.workerType)).toEqual(["backup"]);
    expect(obs.services.value["proxmox-backup-proxy"]).toEqual({ active: "active", enabled: "enabled" });
    expect(obs.bootId.value).toBe(sim.snapshot().hosts.pbs1?.bootId);
  });

  it("observing a PVE node as a PBS says it is not one (CommandMissing) instead of failing", async () => {
    const exec = new CountingExec(simExec(pool, sim, "pve3"));
    const obs = await observePbs(exec);
    expect(exec.count).toBe(1);
    expect(obs.versions).toMatchObject({ ok: false, reason: "CommandMissing", retryable: false });
    expect(obs.rootDisk.ok).toBe(true);
  });
});
