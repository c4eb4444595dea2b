import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { observeClusterSteps, observeNodeSteps } from "../../src/pve/observe.js";
import { observePbsSteps } from "../../src/pve/observe-pbs.js";
import { observeCephSteps } from "../../src/pve/ceph.js";
import { quoteArgv } from "../../src/ssh/quote.js";

// The simulator engineer works from COMMANDS.md; these checks keep it in step with the code.
const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../src/pve/COMMANDS.md"), "utf8");

function placeholders(line: string): string {
  return line.replace(/\/nodes\/pve1\//, "/nodes/<node>/").replace(/\/(qemu|lxc)\/\d+\//, "/$1/<vmid>/");
}

describe("COMMANDS.md", () => {
  it("lists every step of every batch, in order", () => {
    const batches: [string, string[][]][] = [
      ["observeNode", observeNodeSteps("pve1", { pendingUpdates: true })],
      ["observeCluster", observeClusterSteps()],
      ["observePbs", observePbsSteps()],
      ["observeCeph", observeCephSteps()],
    ];
    for (const [name, steps] of batches) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${name}(`));
      expect(row, name).toBeDefined();
      steps.forEach((argv, i) => {
        expect(row, `${name} step ${i}`).toContain(`${i} \`${placeholders(quoteArgv(argv))}\``);
      });
    }
  });
});
