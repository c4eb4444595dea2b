import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type FleetInput, type SimHandle } from "../../src/sim/index.js";
import { eventually, run } from "./ssh-client.js";

/**
 * The CRM's node_status of a node that is powered off for good (pve-ha-manager NodeStatus.pm
 * update(): a node that is not in the quorate partition goes from `online` to `unknown`; Manager.pm
 * fences a node whose HA services are `started` there once it is offline past the fence delay —
 * node `fence` — and sets it back to `unknown` when it holds the node's agent lock).
 */

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const node = (name: string): NonNullable<FleetInput["clusters"][number]["nodes"][number]> => ({
  name,
  kernel: { running: "6.8.12-9-pve" },
  memoryGiB: 64,
});

const FLEET: FleetInput = {
  timing: { haRoundSeconds: 10 },
  clusters: [
    {
      name: "lab",
      storages: [{ name: "ceph", type: "rbd", content: ["images", "rootdir"] }],
      nodes: [node("pve1"), node("pve2"), node("pve3")],
      guests: [
        {
          vmid: 101,
          type: "qemu",
          name: "ha101",
          node: "pve1",
          memoryMiB: 2048,
          ha: true,
          disks: [{ storage: "ceph", sizeGiB: 8 }],
        },
      ],
    },
  ],
};

async function nodeStatus(s: SimHandle, on: string): Promise<Record<string, string>> {
  const r = await run(s, on, "pvesh get /cluster/ha/status/manager_status --output-format json");
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { manager_status: { node_status: Record<string, string> } }).manager_status
    .node_status;
}

describe("HA node_status of a powered-off node", () => {
  it("a node without HA services goes online → unknown and stays there", async () => {
    const s = (sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) }));
    expect((await nodeStatus(s, "pve1")).pve3).toBe("online");
    await run(s, "pve3", "poweroff");
    await eventually(
      async () => (await nodeStatus(s, "pve1")).pve3 === "unknown",
      "pve3 to be unknown",
      20_000,
    );
    // Long past the fence delay: nothing of HA's was there, so it is never fenced.
    await s.clock.sleep(300_000);
    expect((await nodeStatus(s, "pve1")).pve3).toBe("unknown");
    const log = s.history().ha.filter((e) => e.node === "pve3" && e.event === "node-status");
    expect(log.map((e) => `${e.from}→${e.to}`)).toEqual(["online→unknown"]);
  });

  it("a node that held HA services is fenced, then unknown; its services are recovered", async () => {
    const s = (sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) }));
    await run(s, "pve1", "poweroff");
    await eventually(
      async () => (await nodeStatus(s, "pve2")).pve1 === "unknown",
      "pve1 to be unknown",
      20_000,
    );
    await eventually(
      () => s.history().ha.some((e) => e.node === "pve1" && e.event === "node-status" && e.to === "fence"),
      "pve1 to be fenced",
      30_000,
    );
    await eventually(
      async () => (await nodeStatus(s, "pve2")).pve1 === "unknown",
      "pve1 back to unknown",
      20_000,
    );
    const log = s.history().ha.filter((e) => e.node === "pve1" && e.event === "node-status");
    expect(log.map((e) => `${e.from}→${e.to}`)).toEqual(["online→unknown", "unknown→fence", "fence→unknown"]);
    await eventually(() => s.snapshot().guests["101"]!.node !== "pve1", "vm 101 to be recovered", 20_000);
  });
});
