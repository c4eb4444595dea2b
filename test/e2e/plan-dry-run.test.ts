import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle, type SimState } from "../../src/sim/index.js";
import { planCommand } from "../../controller/cli/commands/plan.js";
import type { PlanPreview } from "../../controller/host-patch/dry-run.js";
import { ROLLING_PLAN, simDesiredState } from "../support/sim-desired.js";

const FLEET = join(import.meta.dirname, "fleets", "rolling.yaml");

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

/** The simulator's state without what merely records that something was read. */
function durable(s: SimState): unknown {
  const { history, ...rest } = s;
  const { commands: _commands, ...changes } = history;
  return JSON.parse(
    JSON.stringify({ ...rest, history: changes }, (k, v: unknown) =>
      // Counters and facts that move with time alone (process ids, metrics, the HA master election).
      [
        "cpu",
        "mem",
        "uptime",
        "netin",
        "netout",
        "diskread",
        "diskwrite",
        "lastSeen",
        "now",
        "nextPid",
        "haMaster",
      ].includes(k)
        ? undefined
        : v,
    ),
  );
}

describe("refit plan (dry run) against the simulator", () => {
  it("prints gates, packages, the reboot decision, the migration plan and the exact commands, and changes nothing", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(20) });
    const desired = simDesiredState(sim, ROLLING_PLAN);
    const before = durable(sim.snapshot());
    const out: string[] = [];
    const err: string[] = [];
    const code = await planCommand(
      { desired, json: true },
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    expect({ code, err }).toEqual({ code: 0, err: [] });
    const after = durable(sim.snapshot());
    expect(after).toEqual(before);
    // Every command the hosts ran was a read.
    const ran = sim.history().commands.map((c) => c.command);
    expect(
      ran.filter((c) =>
        /apt-get (update|-y)|qm migrate|pct migrate|ha-manager (migrate|crm-command)|systemctl reboot|(^|; )reboot\b|systemd-run/.test(
          c,
        ),
      ),
    ).toEqual([]);

    const { plans } = JSON.parse(out.join("\n")) as { plans: PlanPreview[] };
    const nodes = Object.fromEntries(plans[0]!.nodes.map((n) => [n.node, n]));
    expect(nodes.pve3?.action).toBe("skip");
    expect(nodes.pve1?.action).toBe("patch");
    expect(nodes.pve1?.pending.map((p) => p.name)).toContain("pve-manager");
    expect(nodes.pve1?.reboot.needed).toBe(true);
    expect(nodes.pve1?.migrations.map((m) => [m.vmid, m.mode]).sort()).toEqual([
      [100, "online"],
      [101, "ha"],
      [200, "restart"],
    ]);
    const commands = nodes.pve1?.commands.map((c) => c.command) ?? [];
    expect(commands[0]).toMatch(/^systemd-run --unit refit-hp-cyclehash-upgrade .*apt-get .*dist-upgrade/);
    expect(commands.some((c) => /qm migrate 100 pve[23] --online 1/.test(c))).toBe(true);
    expect(commands.some((c) => /ha-manager migrate vm:101 pve[23]/.test(c))).toBe(true);
    expect(commands.some((c) => /pct migrate 200 pve[23] --restart 1/.test(c))).toBe(true);
    expect(commands.indexOf("systemctl reboot")).toBeGreaterThan(0);
    // pve2 waits for pve1: it downloads its packages ahead first, then upgrades (prefetch).
    const second = nodes.pve2?.commands.map((c) => c.command) ?? [];
    expect(second[0]).toMatch(
      /^systemd-run --unit refit-hp-cyclehash-prefetch .*apt-get -y --download-only dist-upgrade/,
    );
    expect(second[1]).toMatch(/^systemd-run --unit refit-hp-cyclehash-upgrade /);
  }, 120_000);
});
