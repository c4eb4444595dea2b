import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, ScaledClock } from "../../src/clock.js";
import { formatSimulatorSummary } from "../../src/sim/cli.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, eventually, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;

let sim: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
});
afterAll(async () => {
  await sim?.stop();
});

function ct(cmd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(sim, "pve1", `pct exec 200 -- ${cmd}`);
}

async function probe(url: string): Promise<number | "refused"> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.status;
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    if (cause?.code === "ECONNREFUSED") return "refused";
    throw e;
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

describe("container contents", () => {
  it("runs pip in a venv: outdated list as JSON, then an upgrade", async () => {
    const out = await ct("/opt/app/venv/bin/pip list --outdated --format=json");
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([
      { name: "flask", version: "3.0.3", latest_version: "3.1.0", latest_filetype: "wheel" },
    ]);
    const up = await ct("/opt/app/venv/bin/python -m pip install --upgrade flask");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("Successfully installed flask-3.1.0\n");
    expect((await ct("/opt/app/venv/bin/pip freeze")).stdout).toBe("flask==3.1.0\nrequests==2.32.3\n");
    expect(await ct("pip list")).toMatchObject({ code: 127, stderr: "sh: 1: pip: not found\n" });
  });

  it("runs npm in a project directory: outdated exits 1, update applies", async () => {
    const outdated = await run(sim, "pve2", "pct exec 203 -- npm outdated --json --prefix /srv/app");
    expect(outdated.code).toBe(1);
    expect(JSON.parse(outdated.stdout)).toMatchObject({
      express: { current: "4.21.1", wanted: "4.21.2", latest: "4.21.2" },
    });
    expect((await run(sim, "pve2", "pct exec 203 -- sh -c 'cd /srv/app && npm update'")).code).toBe(0);
    expect(await run(sim, "pve2", "pct exec 203 -- npm outdated --json --prefix /srv/app")).toMatchObject({
      code: 0,
      stdout: "{}\n",
    });
  });

  it("pulls and recreates docker compose services after the registry publishes a new image", async () => {
    const ps = async (): Promise<{ ID: string; Service: string; State: string }> =>
      JSON.parse((await ct("docker compose -f /opt/stack/compose.yaml ps --format json")).stdout.trim()) as {
        ID: string;
        Service: string;
        State: string;
      };
    const before = await ps();
    expect(before).toMatchObject({ Service: "redis", State: "running" });
    sim.publish({ vmid: 200, ecosystem: "compose", file: "/opt/stack/compose.yaml", service: "redis" });
    expect((await ct("docker compose -f /opt/stack/compose.yaml pull")).code).toBe(0);
    expect((await ps()).ID).toBe(before.ID);
    const up = await ct("sh -c 'cd /opt/stack && docker compose up -d'");
    expect(up.stderr).toContain("Container stack-redis-1  Recreated");
    expect((await ps()).ID).not.toBe(before.ID);
  });

  it("sees a published apt update inside the CT after apt-get update", async () => {
    const r = await run(
      sim,
      "pve2",
      "pct exec 201 -- sh -c 'apt-get update >/dev/null && apt-get -s dist-upgrade'",
    );
    expect(r.stdout).toContain(
      "Inst unbound [1.17.1-2+deb12u2] (1.17.1-2+deb12u3 Debian:12.10/stable [amd64])",
    );
    expect(await run(sim, "pve2", "pct exec 999 -- true")).toMatchObject({
      code: 255,
      stderr: "Configuration file 'nodes/pve2/lxc/999.conf' does not exist\n",
    });
  });
});

describe("health endpoints", () => {
  it("answer according to the container's services and power state", async () => {
    const web = sim.healthEndpoints().find((e) => e.vmid === 200)!;
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
    expect(await probe(web.url!)).toBe(200);
    expect((await ct("systemctl stop nginx")).code).toBe(0);
    expect(await probe(web.url!)).toBe(503);
    expect((await ct("systemctl start nginx")).code).toBe(0);
    expect(await probe(web.url!)).toBe(200);

    const id = sim.faults.add({ kind: "healthFailing", vmid: 200, mode: "http500" });
    expect(await probe(web.url!)).toBe(500);
    sim.faults.remove(id);

    const dns = sim.healthEndpoints().find((e) => e.vmid === 201)!;
    expect(await tcpOpen(dns.port)).toBe(true);
    sim.faults.add({ kind: "serviceFailed", vmid: 201, service: "unbound", id: "unbound" });
    await eventually(async () => !(await tcpOpen(dns.port)), "the TCP endpoint to close");
    sim.faults.remove("unbound");

    expect((await run(sim, "pve1", "pct shutdown 200")).code).toBe(0);
    await eventually(
      async () => (await probe(web.url!)) === "refused",
      "the endpoint to refuse while the CT is stopped",
    );
    expect((await run(sim, "pve1", "pct start 200")).code).toBe(0);
    await eventually(async () => (await probe(web.url!)) === 200, "the endpoint to come back");
  });

  it("fails a service on restart when told to, as a bad update would", async () => {
    sim.faults.add({ kind: "serviceFailed", vmid: 200, service: "app", onRestart: true, times: 1 });
    const r = await ct("systemctl restart app");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "Job for app.service failed because the control process exited with error code.",
    );
    expect(await probe(sim.healthEndpoints().find((e) => e.vmid === 200)!.url!)).toBe(503);
    expect((await ct("systemctl restart app")).code).toBe(0);
  });
});

describe("backup and restore", () => {
  it("vzdump archives a CT (locked while it runs) and pct restore brings its contents back", async () => {
    // A slower clock, so the backup is still running when the test looks at the lock.
    const own = await startSimulator({ fleet: FLEET, clock: new ScaledClock(5) });
    try {
      await backupAndRestore(own);
    } finally {
      await own.stop();
    }
  });
});

async function backupAndRestore(sim: SimHandle): Promise<void> {
  const ct = (cmd: string): ReturnType<typeof run> => run(sim, "pve1", `pct exec 200 -- ${cmd}`);
  {
    const c = await SimSsh.connect(sim, "pve1");
    const backup = c.exec("vzdump 200 --mode snapshot --storage local --compress zstd");
    await eventually(() => sim.snapshot().guests["200"]!.lock === "backup", "the backup lock");
    expect(await run(sim, "pve1", "pct snapshot 200 during")).toMatchObject({
      code: 255,
      stderr: "CT is locked (backup)\n",
    });
    const r = await backup;
    c.close();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^INFO: starting new backup job: vzdump 200 --mode snapshot --storage local --compress zstd\n/,
    );
    const volid = /creating vzdump archive '\/var\/lib\/vz\/dump\/(vzdump-lxc-200-[\d_-]+\.tar\.zst)'/.exec(
      r.stderr,
    )?.[1];
    expect(volid).toBeDefined();
    expect(r.stderr).toMatch(/INFO: Backup job finished successfully\n$/);

    const listed = JSON.parse(
      (
        await run(
          sim,
          "pve1",
          "pvesh get /nodes/pve1/storage/local/content --content backup --output-format json",
        )
      ).stdout,
    ) as Record<string, unknown>[];
    expect(listed).toMatchObject([
      { volid: `local:backup/${volid}`, vmid: 200, subtype: "lxc", format: "tar.zst" },
    ]);
    const before = (await ct("/opt/app/venv/bin/pip freeze")).stdout;
    sim.publish({
      vmid: 200,
      ecosystem: "pip",
      venv: "/opt/app/venv",
      package: "requests",
      version: "2.32.4",
    });
    await ct("/opt/app/venv/bin/pip install -U requests");
    expect((await ct("/opt/app/venv/bin/pip freeze")).stdout).not.toBe(before);

    expect(
      await run(sim, "pve1", `pct restore 200 local:backup/${volid} --storage local-zfs --force 1`),
    ).toMatchObject({ code: 255, stderr: "can't overwrite running container\n" });
    expect((await run(sim, "pve1", "pct stop 200")).code).toBe(0);
    const restored = await run(
      sim,
      "pve1",
      `pct restore 200 local:backup/${volid} --storage local-zfs --force 1`,
    );
    expect(restored.code).toBe(0);
    expect((await run(sim, "pve1", "pct start 200")).code).toBe(0);
    expect((await ct("/opt/app/venv/bin/pip freeze")).stdout).toBe(before);
    expect(await run(sim, "pve1", "vzdump 200 --storage local-zfs")).toMatchObject({
      code: 255,
      stderr: "storage 'local-zfs' does not support backup content\n",
    });
  }
}

describe("PBS VM", () => {
  it("names tasks with PBS UPIDs, prints versions, and is not a PBS elsewhere", async () => {
    const all = JSON.parse(
      (await run(sim, "pbs1", "proxmox-backup-manager task list --all --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(all.find((t) => t.worker_type === "backup")).toMatchObject({
      worker_id: "store1:vm/100",
      user: "pve@pbs!pve1",
      node: "localhost",
    });
    expect(all.find((t) => t.worker_type === "backup")!.upid).toMatch(
      /^UPID:pbs1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:backup:store1\\x3avm-100:pve@pbs!pve1:$/,
    );
    expect(all.find((t) => t.worker_type === "garbage_collection")).toMatchObject({ status: "OK" });
    const versions = JSON.parse(
      (await run(sim, "pbs1", "proxmox-backup-manager versions --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(versions[0]).toMatchObject({
      Package: "proxmox-backup-server",
      Version: "3.4.1-1",
      ExtraInfo: "running version: 3.4.1",
    });
    expect(await run(sim, "pve1", "proxmox-backup-manager versions --output-format json")).toMatchObject({
      code: 127,
    });
    expect((await run(sim, "pbs1", "apt-get -s dist-upgrade")).stdout).toContain(
      "Inst proxmox-backup-server [3.4.1-1] (3.4.2-1 Proxmox:bookworm/pbs-no-subscription [amd64])",
    );
  });

  it("lists running tasks only (no endtime/status) until they finish (manual clock)", async () => {
    const clock = new ManualClock();
    const own = await startSimulator({ fleet: FLEET, clock });
    try {
      const list = async (): Promise<unknown[]> =>
        JSON.parse(
          (await run(own, "pbs1", "proxmox-backup-manager task list --output-format json")).stdout,
        ) as unknown[];
      const running = (await list()) as Record<string, unknown>[];
      expect(running).toHaveLength(1);
      expect(running[0]).toMatchObject({ worker_type: "backup" });
      expect(running[0]).not.toHaveProperty("endtime");
      expect(running[0]).not.toHaveProperty("status");
      clock.advance(601_000);
      expect(await list()).toEqual([]);
      const all = JSON.parse(
        (await run(own, "pbs1", "proxmox-backup-manager task list --all --output-format json")).stdout,
      ) as Record<string, unknown>[];
      expect(all.find((t) => t.worker_type === "backup")).toMatchObject({ status: "OK" });
    } finally {
      await own.stop();
    }
  });

  it("reboots from the hypervisor with qm reboot: SSH drops, boot_id changes", async () => {
    const pbs = await SimSsh.connect(sim, "pbs1");
    const before = (await pbs.exec("cat /proc/sys/kernel/random/boot_id")).stdout;
    const closed = new Promise<void>((r) => pbs.client.on("close", () => r()));
    expect((await run(sim, "pve3", "qm reboot 110")).code).toBe(0);
    await closed;
    await eventually(async () => {
      const r = await run(sim, "pbs1", "cat /proc/sys/kernel/random/boot_id").catch(() => undefined);
      return r !== undefined && r.stdout !== before;
    }, "pbs1 to come back with a new boot id");
    expect(sim.history().bootIds.pbs1).toHaveLength(2);
  });
});

describe("refit sim summary", () => {
  it("names every host, the known_hosts file, the client key and an ssh example", () => {
    const text = formatSimulatorSummary(sim);
    for (const h of sim.hosts) expect(text).toContain(`${h.address}:${h.port}`);
    const pve1 = sim.host("pve1");
    expect(text).toContain(
      `ssh -i ${sim.clientKeyPath!} -o UserKnownHostsFile=${sim.knownHostsPath} -p ${pve1.port} root@${pve1.address} pvesh get /cluster/resources --output-format json`,
    );
  });
});
