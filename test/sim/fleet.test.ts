import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TerminalError } from "../../src/errors.js";
import { ScaledClock } from "../../src/clock.js";
import { loadFleet, parseFleet } from "../../src/sim/fleet-load.js";
import { startSimulator } from "../../src/sim/index.js";
import { run } from "./ssh-client.js";

const dir = mkdtempSync(join(tmpdir(), "refit-sim-fleet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("fleet file", () => {
  it("accepts the example three-node fleet and fills defaults", () => {
    const fleet = loadFleet(new URL("./fleets/three-node.yaml", import.meta.url).pathname);
    const lab = fleet.clusters[0]!;
    expect(lab.nodes.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
    expect(lab.guests).toHaveLength(8);
    expect(lab.nodes[0]!.writesRebootRequired).toBe(false);
    expect(fleet.timing.shutdownSeconds).toBe(5);
  });

  it("names the file, line and field of a bad value", () => {
    const p = file(
      "bad-kernel.yaml",
      "clusters:\n  - name: lab\n    nodes:\n      - name: pve1\n        kernel:\n          running: linux-latest\n",
    );
    expect(() => loadFleet(p)).toThrow(TerminalError);
    expect(() => loadFleet(p)).toThrow(
      `${p}:6: clusters[0].nodes[0].kernel.running: must be a kernel release such as 6.8.12-9-pve`,
    );
  });

  it("rejects unknown fields and broken references", () => {
    const p = file(
      "bad-ref.yaml",
      "clusters:\n  - name: lab\n    nodes:\n      - { name: pve1, kernel: { running: 6.8.12-9-pve }, colour: blue }\n    guests:\n      - { vmid: 100, type: qemu, name: vm, node: pve7 }\n",
    );
    let message = "";
    try {
      loadFleet(p);
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    expect(message).toContain(`${p}:4: clusters[0].nodes[0]: Unrecognized key: "colour"`);
    expect(message).toContain("clusters[0].guests[0].node: no node 'pve7' in cluster 'lab' (nodes: pve1)");
  });

  it("reports invalid YAML with its line", () => {
    const p = file("broken.yaml", "clusters:\n  - name: [oops\n");
    expect(() => loadFleet(p)).toThrow(/broken\.yaml:\d+.*not valid YAML/);
  });

  it("validates fleet objects the same way", () => {
    expect(() =>
      parseFleet({
        clusters: [
          {
            name: "c",
            nodes: [{ name: "n1", kernel: { running: "6.8.12-9-pve" } }],
            guests: [{ vmid: 5, type: "lxc", name: "x", node: "n1" }],
          },
        ],
      }),
    ).toThrow(/clusters\[0\]\.guests\[0\]\.vmid: Too small/);
  });

  it("applies faults declared in the fleet file", async () => {
    const sim = await startSimulator({
      clock: new ScaledClock(100),
      fleet: {
        clusters: [
          {
            name: "c",
            nodes: [
              { name: "n1", kernel: { running: "6.8.12-9-pve" } },
              { name: "n2", kernel: { running: "6.8.12-9-pve" } },
            ],
          },
        ],
        faults: [{ kind: "exit", host: "n1", match: "pveversion", exitCode: 2, stderr: "boom\n" }],
      },
    });
    try {
      expect(await run(sim, "n1", "pveversion")).toMatchObject({ code: 2, stderr: "boom\n" });
      expect((await run(sim, "n2", "pveversion")).code).toBe(0);
      expect(sim.faults.list()).toMatchObject([{ spec: { kind: "exit", host: "n1" }, fired: 1 }]);
    } finally {
      await sim.stop();
    }
  });
});
