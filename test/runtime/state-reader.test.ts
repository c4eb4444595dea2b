import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerStatus } from "../../controller/cli/commands/status.js";
import { FileStore } from "../../controller/runtime/file-store.js";
import { readEntry, statePath } from "../../controller/runtime/state-dir.js";
import { readState, readStateSnapshot } from "../../controller/runtime/state-reader.js";
import type { RefitObjectOf } from "../../src/api/kinds.js";
import { ManualClock } from "../../src/clock.js";
import {
  CLUSTER_YAML,
  hostPatch,
  planYaml,
  recordingLogger,
  tempDirs,
  write,
  type TempDirs,
} from "./support.js";

let dirs: TempDirs;
let store: FileStore | undefined;

beforeEach(async () => {
  dirs = await tempDirs();
  await write(dirs.desired, "cluster.yaml", CLUSTER_YAML);
  await write(dirs.desired, "plan.yaml", planYaml());
  store = await FileStore.open({
    desiredDir: dirs.desired,
    stateDir: dirs.state,
    log: recordingLogger(),
    clock: new ManualClock(),
    watch: false,
  });
});

afterEach(async () => {
  await store?.close();
  await dirs.remove();
});

function open(): FileStore {
  if (!store) throw new Error("no store");
  return store;
}

async function planOf(s: FileStore): Promise<RefitObjectOf<"HostPatchPlan">> {
  const p = await s.get("HostPatchPlan", "", "nodes");
  if (!p) throw new Error("HostPatchPlan/nodes is not in the store");
  return p;
}

/** A plan with status and one child with status, as a reconciler would leave them. */
async function planWithChild(s: FileStore): Promise<void> {
  const p = await s.updateStatus({ ...(await planOf(s)), status: { phase: "Progressing" } });
  const child = await s.create(hostPatch("nodes-pve1", p));
  await s.updateStatus({ ...child, status: { phase: "Upgrading", message: "pve1" } });
}

function names(objects: { kind: string; metadata: { name: string } }[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`);
}

describe("readState", () => {
  it("reads what a FileStore wrote, desired objects with their status and children, while the store holds its lock", async () => {
    const s = open();
    await planWithChild(s);
    expect(await readdir(dirs.state)).toContain("refit.lock");

    const objects = await readState(dirs.state);
    expect(names(objects)).toEqual(["HostPatchPlan/nodes", "ProxmoxCluster/lab", "HostPatch/nodes-pve1"]);
    const plan = objects.find((o) => o.kind === "HostPatchPlan");
    expect(plan).toEqual(await s.get("HostPatchPlan", "", "nodes"));
    expect(plan?.status?.phase).toBe("Progressing");
    const child = objects.find((o) => o.kind === "HostPatch");
    expect(child).toEqual(await s.get("HostPatch", "", "nodes-pve1"));
    expect(child?.status).toMatchObject({ phase: "Upgrading", message: "pve1" });

    // The store is untouched by the read: it still holds the lock and still writes.
    expect(await readdir(dirs.state)).toContain("refit.lock");
    await expect(s.updateStatus({ ...(await planOf(s)), status: { phase: "Idle" } })).resolves.toBeDefined();
  });

  it("skips temporary files and reports, without failing, a file that holds no valid object", async () => {
    const s = open();
    await planWithChild(s);
    const dir = join(dirs.state, "objects", "HostPatch", "_");
    await writeFile(join(dir, ".nodes-pve2.json.999.abcdef.tmp"), '{"half');
    await writeFile(join(dir, "broken.json"), "{ not json");
    await mkdir(join(dirs.state, "objects", "NotAKind", "_"), { recursive: true });
    await writeFile(join(dirs.state, "objects", "NotAKind", "_", "x.json"), "{}");

    const snapshot = await readStateSnapshot(dirs.state);
    expect(names(snapshot.objects)).toContain("HostPatch/nodes-pve1");
    expect(snapshot.objects).toHaveLength(3);
    expect(snapshot.unreadable.map((u) => u.path)).toEqual([join(dir, "broken.json")]);
    expect(snapshot.unreadable[0]?.error).toMatch(/JSON/);
    expect(await readState(dirs.state)).toEqual(snapshot.objects);
  });

  it("sees every object whole while the store keeps replacing the files", async () => {
    const s = open();
    await planWithChild(s);
    let writing = true;
    const reads: string[][] = [];
    const reader = (async () => {
      while (writing) reads.push(names(await readState(dirs.state)));
    })();
    for (let i = 0; i < 30; i++) {
      const cur = await s.get("HostPatch", "", "nodes-pve1");
      if (!cur) throw new Error("nodes-pve1 vanished");
      await s.updateStatus({
        ...cur,
        status: { phase: "Upgrading", message: `step ${i} ${"x".repeat(20_000)}` },
      });
    }
    writing = false;
    await reader;
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads)
      expect(r).toEqual(["HostPatchPlan/nodes", "ProxmoxCluster/lab", "HostPatch/nodes-pve1"]);
  });

  it("a state directory that does not exist (yet) holds no objects", async () => {
    await expect(readState(join(dirs.state, "missing"))).resolves.toEqual([]);
  });

  it("a record removed between listing and reading is an object deleted meanwhile, not an error", async () => {
    const key = { kind: "HostPatch" as const, namespace: "", name: "gone" };
    const file = { path: statePath(dirs.state, key), section: "objects" as const, key };
    await expect(readEntry(file)).resolves.toBeUndefined();
  });
});

describe("refit status", () => {
  it("shows the plan and its child beside a running controller, and warns about a file it ignores", async () => {
    await planWithChild(open());
    await writeFile(join(dirs.state, "objects", "HostPatch", "_", "broken.json"), "{ not json");
    const out: string[] = [];
    const err: string[] = [];
    let exit: number | undefined;
    const program = new Command().exitOverride();
    registerStatus(program, { out: (l) => out.push(l), err: (l) => err.push(l) }, (c) => (exit = c));
    await program.parseAsync(["status", "--state", dirs.state], { from: "user" });
    expect(exit).toBe(0);
    expect(out[0]).toMatch(/^KIND\/NAME\s+READY\s+PHASE/);
    expect(out.some((l) => /^HostPatchPlan\/nodes\s+Unknown\s+Progressing/.test(l))).toBe(true);
    expect(out.some((l) => /^ {2}HostPatch\/nodes-pve1\s+Unknown\s+Upgrading.*pve1$/.test(l))).toBe(true);
    expect(err).toEqual([expect.stringMatching(/^warning: .*broken\.json is ignored: /)]);
  });
});
