import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { quoteArgv } from "../../src/ssh/quote.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SimSsh, run } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;

let sim: SimHandle;
let pve1: SimSsh;

beforeAll(async () => {
  sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
  pve1 = await SimSsh.connect(sim, "pve1");
});

afterAll(async () => {
  pve1?.close();
  await sim?.stop();
});

describe("simulator read commands over SSH", () => {
  it("gives each node its own loopback address, port and verified host key", () => {
    expect(sim.nodes.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
    const endpoints = new Set(sim.hosts.map((h) => `${h.address}:${h.port}`));
    expect(endpoints.size).toBe(sim.hosts.length);
    expect(new Set(sim.hosts.map((h) => h.hostPublicKey)).size).toBe(sim.hosts.length);
  });

  it("rejects a client key it was not given", async () => {
    const { utils } = await import("ssh2");
    const other = utils.generateKeyPairSync("ed25519");
    await expect(SimSsh.connect(sim, "pve2", { privateKey: other.private })).rejects.toThrow(
      /authentication/i,
    );
  });

  it("answers pvesh get /cluster/status with Perl booleans", async () => {
    const r = await pve1.exec("pvesh get /cluster/status --output-format json");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ type: "cluster", name: "pve-lab", nodes: 3, quorate: 1 });
    const nodes = rows.filter((x) => x.type === "node");
    expect(nodes.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
    expect(nodes.find((n) => n.name === "pve1")).toMatchObject({ local: 1, online: 1, ip: "192.168.50.11" });
    expect(nodes.find((n) => n.name === "pve2")).toMatchObject({ local: 0, online: 1 });
  });

  it("lists /cluster/resources with pool and sdn rows", async () => {
    const r = await pve1.exec("pvesh get /cluster/resources --output-format json");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    const types = new Set(rows.map((x) => x.type));
    expect([...types].sort()).toEqual(["lxc", "node", "pool", "qemu", "sdn", "storage"]);
    expect(rows.find((x) => x.id === "qemu/101")).toMatchObject({
      node: "pve1",
      status: "running",
      hastate: "started",
      tags: "db;prod",
      template: 0,
    });
    expect(rows.find((x) => x.id === "lxc/202")).toMatchObject({ status: "stopped" });
    expect(rows.find((x) => x.id === "pool/prod")).toEqual({ id: "pool/prod", type: "pool", pool: "prod" });
    const vms = JSON.parse(
      (await pve1.exec("pvesh get /cluster/resources --type vm --output-format json")).stdout,
    ) as { type: string }[];
    expect(vms.every((x) => x.type === "qemu" || x.type === "lxc")).toBe(true);
  });

  it("reports node status, guest lists and configs", async () => {
    const status = JSON.parse(
      (await pve1.exec("pvesh get /nodes/pve1/status --output-format json")).stdout,
    ) as Record<string, unknown>;
    expect(status["current-kernel"]).toMatchObject({ release: "6.8.12-9-pve" });
    expect(status.pveversion).toBe("pve-manager/8.4.1/2a5fa54a8503f96d");
    expect((status.loadavg as unknown[]).every((x) => typeof x === "string")).toBe(true);

    const qemu = JSON.parse((await pve1.exec("pvesh get /nodes/pve1/qemu --output-format json")).stdout) as {
      vmid: number;
    }[];
    expect(qemu.map((g) => g.vmid).sort()).toEqual([100, 101]);
    const lxc = JSON.parse((await pve1.exec("pvesh get nodes/pve1/lxc --output-format=json")).stdout) as {
      vmid: number;
    }[];
    expect(lxc.map((g) => g.vmid)).toEqual([200]);

    // pvesh proxies to other nodes of the cluster.
    const cfg = JSON.parse(
      (await pve1.exec("pvesh get /nodes/pve2/qemu/102/config --output-format json")).stdout,
    ) as Record<string, unknown>;
    expect(cfg).toMatchObject({ name: "gpu1", hostpci0: "0000:41:00.0,pcie=1", memory: "8192", onboot: 1 });
    const ct = JSON.parse(
      (await pve1.exec("pvesh get /nodes/pve1/lxc/200/config --output-format json")).stdout,
    ) as Record<string, unknown>;
    expect(ct).toMatchObject({
      hostname: "app1",
      ostype: "debian",
      rootfs: "local-zfs:subvol-200-disk-0,size=8G",
    });

    const missing = await pve1.exec("pvesh get /nodes/pve1/qemu/102/config --output-format json");
    expect(missing.code).toBe(255);
    expect(missing.stderr).toContain("Configuration file 'nodes/pve1/qemu-server/102.conf' does not exist");
  });

  it("reports HA status, tasks and pvecm status", async () => {
    const current = JSON.parse(
      (await pve1.exec("pvesh get /cluster/ha/status/current --output-format json")).stdout,
    ) as Record<string, unknown>[];
    expect(current[0]).toMatchObject({ id: "quorum", status: "OK", quorate: 1 });
    expect(current.find((x) => x.id === "service:vm:101")).toMatchObject({
      node: "pve1",
      state: "started",
      status: "vm:101 (pve1, started)",
    });
    expect(current.some((x) => x.type === "node")).toBe(false);
    const ms = JSON.parse(
      (await pve1.exec("pvesh get /cluster/ha/status/manager_status --output-format json")).stdout,
    ) as {
      manager_status: { node_status: Record<string, string> };
    };
    expect(ms.manager_status.node_status).toEqual({ pve1: "online", pve2: "online", pve3: "online" });
    const tasks = await pve1.exec("pvesh get /nodes/pve1/tasks --source active --output-format json");
    expect(JSON.parse(tasks.stdout)).toEqual([]);

    const pvecm = await pve1.exec("pvecm status");
    expect(pvecm.code).toBe(0);
    expect(pvecm.stdout).toMatch(/^Cluster information\n-------------------\nName: +pve-lab\n/);
    expect(pvecm.stdout).toMatch(/^Quorate: +Yes$/m);
    expect(pvecm.stdout).toMatch(/^Expected votes: +3$/m);
    expect(pvecm.stdout).toMatch(/^0x00000001 +1 192\.168\.50\.11 \(local\)$/m);
  });

  it("prints versions, kernels, boot id, disk and ZFS state in the real formats", async () => {
    expect((await pve1.exec("pveversion")).stdout).toBe(
      "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\n",
    );
    expect((await pve1.exec("uname -r")).stdout).toBe("6.8.12-9-pve\n");
    const bootId = (await pve1.exec("cat /proc/sys/kernel/random/boot_id")).stdout;
    expect(bootId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/);
    expect(bootId.trim()).toBe(sim.snapshot().hosts.pve1!.bootId);
    expect((await pve1.exec("proxmox-boot-tool kernel list")).stdout).toBe(
      "Manually selected kernels:\nNone.\n\nAutomatically selected kernels:\n6.8.12-8-pve\n6.8.12-9-pve\n",
    );
    const df = (await pve1.exec("df -P -B1 /")).stdout.split("\n");
    expect(df[0]).toMatch(/^Filesystem +1-blocks +Used +Available Capacity Mounted on$/);
    expect(df[1]).toMatch(/^rpool\/ROOT\/pve-1 +107374182400 +15032385536 +92341796864 +14% \/$/);
    const out = (await pve1.exec("df -B1 --output=size,used,avail,pcent,target /")).stdout;
    expect(out).toMatch(
      /^ +1B-blocks +Used +Avail Use% Mounted on\n107374182400 15032385536 92341796864 {2}14% \/\n$/,
    );
    expect((await pve1.exec("zpool status -x")).stdout).toBe("all pools are healthy\n");
    const reboot = await pve1.exec("test -f /var/run/reboot-required");
    expect(reboot.code).toBe(1);
    const pkgs = await pve1.exec("cat /var/run/reboot-required.pkgs");
    expect(pkgs).toMatchObject({
      code: 1,
      stderr: "cat: /var/run/reboot-required.pkgs: No such file or directory\n",
    });
  });

  it("runs a contract-3 batch in one round trip and reports each step's exit code", async () => {
    const steps = [
      ["uname", "-r"],
      ["test", "-e", "/var/run/reboot-required"],
      ["pvesh", "get", "/nodes/pve1/status", "--output-format", "json"],
      ["no-such-tool"],
    ];
    const script = steps
      .map((a, i) => `echo @@refit:${i}:begin; ${quoteArgv(a)} 2>&1; echo @@refit:${i}:end:$?`)
      .join("; ");
    const r = await pve1.exec(quoteArgv(["sh", "-c", script]));
    expect(r.code).toBe(0);
    const ends = [...r.stdout.matchAll(/^@@refit:(\d+):end:(\d+)$/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(ends).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 127],
    ]);
    expect(r.stdout).toContain("@@refit:0:begin\n6.8.12-9-pve\n@@refit:0:end:0\n");
    expect(r.stdout).toContain("@@refit:3:begin\nsh: 1: no-such-tool: not found\n@@refit:3:end:127");
  });

  it("handles env prefixes, quoting, && / || and redirections like dash", async () => {
    expect((await pve1.exec("LC_ALL=C uname -r && echo ok || echo no")).stdout).toBe("6.8.12-9-pve\nok\n");
    expect((await pve1.exec("false || echo \"status $?\"; echo 'it'\\''s'")).stdout).toBe("status 1\nit's\n");
    const r = await pve1.exec("cat /nonexistent 2>&1 >/dev/null; echo rc=$?");
    expect(r.stdout).toBe("cat: /nonexistent: No such file or directory\nrc=1\n");
    expect((await pve1.exec("cat /nonexistent 2>/dev/null")).stderr).toBe("");
    expect((await pve1.exec("echo hello world | grep -c world")).stdout).toBe("1\n");
  });

  it("exits 127 with dash's wording for unknown commands and 2 for syntax it does not support", async () => {
    const r = await pve1.exec("frobnicate --now");
    expect(r).toMatchObject({ code: 127, stderr: "sh: 1: frobnicate: not found\n", stdout: "" });
    const qmOnPbs = await run(sim, "pbs1", "qm list");
    expect(qmOnPbs).toMatchObject({ code: 127, stderr: "sh: 1: qm: not found\n" });
    expect(await pve1.exec('echo "kernel $(uname -r)"')).toMatchObject({
      code: 0,
      stdout: "kernel 6.8.12-9-pve\n",
    });
    const syntax = await pve1.exec("sleep 1 &");
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/^sh: syntax error/);
  });
});
