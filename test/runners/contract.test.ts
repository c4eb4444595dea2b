import { readdirSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runnerType, type Runner } from "../../src/api/runners.js";
import type { Change, RunnerPlugin, RunnerStep, RunnerTarget } from "../../src/runners/contract.js";
import { RUNNERS, pluginFor } from "../../src/runners/registry.js";
import { parseDuration } from "../../src/api/primitives.js";
import { answer, DEBIAN, spec } from "./support.js";
import { CASES } from "./cases.js";

const ROOT = new URL("../../src/runners/", import.meta.url).pathname;
const folders = readdirSync(ROOT)
  .filter((f) => statSync(`${ROOT}${f}`).isDirectory())
  .sort();

const FUNCTIONS: (keyof RunnerPlugin)[] = [
  // `refresh` is optional.
  "detect",
  "applies",
  "list",
  "pending",
  "hold",
  "apply",
  "release",
  "installed",
  "changes",
];

describe("the runner registry", () => {
  it("lists every folder under src/runners, and nothing else", () => {
    expect(Object.keys(RUNNERS).sort()).toEqual(folders);
  });

  it("has a plugin for every runner type, registered under its own type", () => {
    expect(Object.keys(RUNNERS).sort()).toEqual([...runnerType.options].sort());
    for (const [type, plugin] of Object.entries(RUNNERS)) expect(plugin.type).toBe(type);
  });

  it("every plugin has every function of the contract", () => {
    for (const plugin of Object.values(RUNNERS))
      for (const fn of FUNCTIONS) expect(typeof plugin[fn], `${plugin.type}.${fn}`).toBe("function");
  });

  it("has a contract case for every runner type", () => {
    expect([...new Set(CASES.map((c) => c.spec.type))].sort()).toEqual([...runnerType.options].sort());
  });
});

function checkSteps(s: Runner, steps: readonly RunnerStep[], phase: string): void {
  const budget = parseDuration(s.timeout);
  const ids = steps.map((x) => x.id);
  expect(new Set(ids).size, `${phase} step ids are unique`).toBe(ids.length);
  for (const st of steps) {
    expect(st.id, "step ids fit a job name").toMatch(/^[a-z0-9][a-z0-9-]{0,40}$/);
    expect(st.argv.length).toBeGreaterThan(0);
    expect(st.argv[0], "argv[0] is a program, never an environment assignment").not.toMatch(/^[A-Za-z_]+=/);
    expect(st.timeoutMs).toBeGreaterThan(0);
    expect(st.timeoutMs).toBeLessThanOrEqual(budget);
  }
}

describe.each(CASES)("the $name case", (c) => {
  const target: RunnerTarget = c.target ?? DEBIAN;
  const s = spec(c.spec);
  const plugin = pluginFor(s);

  it("detects from its detect steps", () => {
    const steps = plugin.detect(s, target);
    checkSteps(s, steps, "detect");
    expect(plugin.applies(s, target, answer(steps, {}))).toBe(true);
    if (steps.length > 0)
      expect(
        plugin.applies(
          s,
          target,
          answer(steps, Object.fromEntries(steps.map((x) => [x.id, { exitCode: 127 }]))),
        ),
      ).toBe(false);
  });

  it("lists with read-only steps that are not jobs, and reads the pending updates", () => {
    const refresh = plugin.refresh?.(s, target) ?? [];
    const steps = plugin.list(s, target);
    checkSteps(s, [...refresh, ...steps], "refresh and list");
    for (const st of [...refresh, ...steps]) expect(st.job ?? false, `${st.id} is not a job`).toBe(false);
    expect(plugin.pending(s, target, answer([...refresh, ...steps], c.list))).toEqual(c.pending);
  });

  it("reads the same pending updates without the index refresh, as a dry run does", () => {
    expect(plugin.pending(s, target, answer(plugin.list(s, target), c.list))).toEqual(c.pending);
  });

  it("applies the pending updates as jobs, and nothing when nothing is pending", () => {
    const steps = plugin.apply(s, target, c.pending);
    checkSteps(s, steps, "apply");
    expect(steps.length).toBeGreaterThan(0);
    for (const st of steps) expect(st.job, `${st.id} runs as a remote job`).toBe(true);
    if (c.applyArgv) expect(steps.map((x) => x.argv)).toEqual(c.applyArgv);
    expect(plugin.apply(s, target, [])).toEqual([]);
  });

  it("releases whenever it holds", () => {
    const hold = plugin.hold(s, target);
    const release = plugin.release(s, target);
    checkSteps(s, hold, "hold");
    checkSteps(s, release, "release");
    if (hold.length > 0) expect(release.length).toBeGreaterThan(0);
  });

  it("reads what changed from a fresh listing", () => {
    const steps = plugin.installed(s, target);
    checkSteps(s, steps, "installed");
    const changes: Change[] = plugin.changes(s, target, c.pending, answer(steps, c.installed));
    expect(changes).toEqual(c.changes);
  });

  it("throws a typed error naming the runner when a listing step's result is missing", () => {
    const steps = plugin.list(s, target);
    if (steps.length === 0) return;
    expect(() => plugin.pending(s, target, [])).toThrow(/runner/);
  });
});
