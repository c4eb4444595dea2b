import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStore, type FileStoreOptions } from "../../controller/runtime/file-store.js";
import { getCondition, setReady, type StatusWithConditions } from "../../controller/runtime/conditions.js";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidObjectError,
  NotFoundError,
  ReadOnlyError,
} from "../../controller/runtime/store.js";
import type { RefitObject, RefitObjectOf } from "../../src/api/kinds.js";
import { ManualClock } from "../../src/clock.js";
import { TerminalError } from "../../src/errors.js";
import {
  CLUSTER_YAML,
  EventRecorder,
  eventually,
  git,
  hostPatch,
  planYaml,
  recordingLogger,
  tempDirs,
  write,
  type RecordingLogger,
  type TempDirs,
} from "./support.js";

let dirs: TempDirs;
let log: RecordingLogger;
const open: FileStore[] = [];

beforeEach(async () => {
  dirs = await tempDirs();
  log = recordingLogger();
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await dirs.remove();
});

async function openStore(extra: Partial<FileStoreOptions> = {}): Promise<FileStore> {
  const store = await FileStore.open({
    desiredDir: dirs.desired,
    stateDir: dirs.state,
    log,
    clock: new ManualClock(),
    watch: false,
    ...extra,
  });
  open.push(store);
  return store;
}

async function closeStore(store: FileStore): Promise<void> {
  open.splice(open.indexOf(store), 1);
  await store.close();
}

async function withPlan(yaml = planYaml()): Promise<{ clusterFile: string; planFile: string }> {
  const clusterFile = await write(dirs.desired, "cluster.yaml", CLUSTER_YAML);
  const planFile = await write(dirs.desired, "plan.yaml", yaml);
  return { clusterFile, planFile };
}

async function plan(store: FileStore, name = "nodes"): Promise<RefitObjectOf<"HostPatchPlan">> {
  const p = await store.get("HostPatchPlan", "", name);
  if (!p) throw new Error(`HostPatchPlan/${name} is not in the store`);
  return p;
}

function readyOf(obj: RefitObject | undefined) {
  return getCondition(obj?.status, "Ready");
}

describe("FileStore: desired objects", () => {
  it("loads the desired-state directory; every object carries uid, resourceVersion, generation and creationTimestamp", async () => {
    await withPlan();
    const store = await openStore();
    const clusters = await store.list("ProxmoxCluster");
    expect(clusters.map((c) => c.metadata.name)).toEqual(["lab"]);
    const p = await plan(store);
    expect(p.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(p.metadata.generation).toBe(1);
    expect(p.metadata.creationTimestamp).toBe("2026-01-01T00:00:00.000Z");
    expect(p.metadata.namespace).toBeUndefined();
    // Defaults from the schema are applied, as the loader applies them.
    expect(p.spec.reboot.policy).toBe("IfRequired");
    expect(await store.get("HostPatchPlan", "", "missing")).toBeUndefined();
    expect(store.desiredIssues()).toEqual([]);
  });

  it("refuses to create, update or delete a desired object and says which file to edit", async () => {
    const { planFile } = await withPlan();
    const store = await openStore();
    const p = await plan(store);
    const err = await store.update({ ...p, spec: { ...p.spec, suspend: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadOnlyError);
    expect((err as ReadOnlyError).reason).toBe("ReadOnly");
    expect((err as Error).message).toBe(
      `HostPatchPlan/nodes is declared in ${planFile}:1:1; edit ${planFile} instead`,
    );
    await expect(store.delete("HostPatchPlan", "", "nodes")).rejects.toThrow(
      `remove it from ${planFile} instead`,
    );
    await expect(store.create({ ...p, metadata: { name: "other" } })).rejects.toBeInstanceOf(ReadOnlyError);
    expect((await plan(store)).spec.suspend).toBe(false);
  });

  it("writes status to the state directory and reads it back after a restart, with the same uid and generation", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    const status: StatusWithConditions & { phase: "Idle" } = { phase: "Idle" };
    setReady(
      status,
      { status: "True", reason: "UpToDate", message: "nothing to patch" },
      1,
      Date.parse("2026-01-01T00:00:00Z"),
    );
    const written = await store.updateStatus({ ...p, status });
    expect(Number(written.metadata.resourceVersion)).toBeGreaterThan(Number(p.metadata.resourceVersion));
    expect(written.metadata.generation).toBe(1);

    const file = JSON.parse(
      await readFile(join(dirs.state, "desired", "HostPatchPlan", "_", "nodes.json"), "utf8"),
    ) as {
      object: RefitObjectOf<"HostPatchPlan">;
    };
    expect(file.object.status?.conditions?.[0]?.reason).toBe("UpToDate");

    await closeStore(store);
    const again = await openStore();
    const back = await plan(again);
    expect(back.metadata.uid).toBe(p.metadata.uid);
    expect(back.metadata.generation).toBe(1);
    expect(back.metadata.resourceVersion).toBe(written.metadata.resourceVersion);
    expect(back.status).toEqual(written.status);
  });

  it("refuses a stale resourceVersion with a retryable ConflictError", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    await store.updateStatus({ ...p, status: { phase: "Idle" } });
    const err = await store.updateStatus({ ...p, status: { phase: "Progressing" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).reason).toBe("Conflict");
    expect((err as ConflictError).retryable).toBe(true);
    expect((err as Error).message).toContain("HostPatchPlan/nodes was changed by someone else");
    expect((await plan(store)).status?.phase).toBe("Idle");
  });

  it("a status write that changes nothing returns the stored object and emits no event", async () => {
    await withPlan();
    const store = await openStore();
    const rec = new EventRecorder(store);
    const p = await plan(store);
    const first = await store.updateStatus({ ...p, status: { phase: "Idle" } });
    const second = await store.updateStatus({ ...first, status: { phase: "Idle" } });
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(rec.events.map((e) => e.type)).toEqual(["MODIFIED"]);
  });

  it("keeps generation and uid across restarts and bumps generation once for a spec edited while stopped", async () => {
    const { planFile } = await withPlan();
    const store = await openStore();
    const before = await plan(store);
    await closeStore(store);

    // A comment and formatting change is not a spec change.
    await writeFile(planFile, `# reformatted\n${planYaml()}`);
    const s2 = await openStore();
    expect((await plan(s2)).metadata).toMatchObject({ uid: before.metadata.uid, generation: 1 });
    await closeStore(s2);

    await writeFile(planFile, planYaml({ nodes: "pve1" }));
    const s3 = await openStore();
    const after = await plan(s3);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.generation).toBe(2);
    expect(after.metadata.creationTimestamp).toBe(before.metadata.creationTimestamp);
    await closeStore(s3);

    const s4 = await openStore();
    expect((await plan(s4)).metadata.generation).toBe(2);
  });

  it("an object invalid at startup is restored from the state directory at its last valid version", async () => {
    const { planFile } = await withPlan();
    const store = await openStore();
    const p = await plan(store);
    await closeStore(store);
    await writeFile(planFile, planYaml().replace("profile: pve", "profile: pvx"));
    const again = await openStore();
    const kept = await plan(again);
    expect(kept.spec.profile).toBe("pve");
    expect(kept.metadata.uid).toBe(p.metadata.uid);
    expect(readyOf(kept)).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(readyOf(kept)?.message).toContain(`${planFile}:8:12`);
    expect(again.desiredIssues()).toEqual([
      expect.stringContaining(`${planFile}:8:12: HostPatchPlan/nodes spec.profile:`),
    ]);
  });

  it("a YAML syntax error anywhere keeps every object whose file cannot be read, and deletes nothing", async () => {
    const { planFile } = await withPlan();
    const store = await openStore();
    await writeFile(planFile, "apiVersion: refit.dev/v1alpha1\nkind: [unclosed\n");
    await store.reload();
    expect((await plan(store)).spec.profile).toBe("pve");
    expect(readyOf(await plan(store))?.reason).toBe("InvalidSpec");
    expect(await store.get("ProxmoxCluster", "", "lab")).toBeDefined();
    expect(store.desiredIssues().join("\n")).toContain(`${planFile}:`);
  });
});

describe("FileStore: watching the desired-state directory", () => {
  it("an edited spec arrives as MODIFIED with the generation bumped; a label edit changes metadata but not generation", async () => {
    const { planFile } = await withPlan();
    const store = await openStore({ watch: true });
    const rec = new EventRecorder(store);
    const before = await plan(store);

    let waiting = rec.next(
      "MODIFIED HostPatchPlan",
      (e) => e.type === "MODIFIED" && e.object.kind === "HostPatchPlan",
    );
    await writeFile(planFile, planYaml({ nodes: "pve1" }));
    let event = await waiting;
    expect(event.object.metadata.generation).toBe(2);
    expect((event.object as RefitObjectOf<"HostPatchPlan">).spec.targets).toEqual({ nodes: ["pve1"] });
    expect(event.oldObject?.metadata.generation).toBe(1);
    expect(event.object.metadata.uid).toBe(before.metadata.uid);

    waiting = rec.next(
      "MODIFIED HostPatchPlan",
      (e) => e.type === "MODIFIED" && e.object.kind === "HostPatchPlan",
    );
    await writeFile(planFile, `# a comment\n${planYaml({ nodes: "pve1", labels: { team: "ops" } })}`);
    event = await waiting;
    expect(event.object.metadata.labels).toEqual({ team: "ops" });
    expect(event.object.metadata.generation).toBe(2);
    expect((await plan(store)).metadata.generation).toBe(2);
  });

  it("an invalid edit keeps the last valid object, reports file:line:col and sets Ready=False InvalidSpec; fixing it restores Ready", async () => {
    const { planFile } = await withPlan();
    const store = await openStore({ watch: true });
    const rec = new EventRecorder(store);
    // The reconciler has said Ready=True before the bad edit.
    const p = await plan(store);
    const status = {};
    setReady(status, { status: "True", reason: "UpToDate" }, 1, Date.parse("2026-01-01T00:00:00Z"));
    await store.updateStatus({ ...p, status });

    let waiting = rec.next("InvalidSpec", (e) => readyOf(e.object)?.reason === "InvalidSpec");
    await writeFile(planFile, planYaml({ nodes: "pve1" }).replace("profile: pve", "profile: pvx"));
    const event = await waiting;
    const kept = event.object as RefitObjectOf<"HostPatchPlan">;
    expect(kept.spec.profile).toBe("pve");
    expect(kept.spec.targets).toEqual({ nodes: ["pve*"] });
    expect(kept.metadata.generation).toBe(1);
    expect(readyOf(kept)).toMatchObject({ status: "False", reason: "InvalidSpec", observedGeneration: 1 });
    expect(readyOf(kept)?.message).toContain(`${planFile}:8:12: HostPatchPlan/nodes spec.profile:`);
    expect(store.desiredIssues()).toEqual([expect.stringContaining(`${planFile}:8:12:`)]);
    expect(
      log.lines.some((l) => l.level === "warn" && l.msg.includes(`${planFile}:8:12`) && l.fields.line === 8),
    ).toBe(true);

    // A reconciler writing Ready meanwhile does not hide the problem.
    const cur = await plan(store);
    const mine = structuredClone(cur.status ?? {});
    setReady(
      mine,
      { status: "False", reason: "Upgrading", message: "pve1" },
      1,
      Date.parse("2026-01-01T00:00:00Z"),
    );
    const written = await store.updateStatus({ ...cur, status: mine });
    expect(readyOf(written)?.reason).toBe("InvalidSpec");

    waiting = rec.next(
      "Ready restored",
      (e) => e.type === "MODIFIED" && readyOf(e.object)?.reason === "Upgrading",
    );
    await writeFile(planFile, planYaml());
    const fixed = (await waiting).object;
    expect(readyOf(fixed)).toMatchObject({ status: "False", reason: "Upgrading" });
    expect(store.desiredIssues()).toEqual([]);
    expect(fixed.metadata.generation).toBe(1);
  });

  it("a removed file deletes its objects (DELETED) and the children they own", async () => {
    const { planFile } = await withPlan();
    const store = await openStore({ watch: true });
    const p = await plan(store);
    await store.create(hostPatch("nodes-pve1", p));
    const rec = new EventRecorder(store);
    const child = rec.next("child DELETED", (e) => e.type === "DELETED" && e.object.kind === "HostPatch");
    const planGone = rec.next(
      "plan DELETED",
      (e) => e.type === "DELETED" && e.object.kind === "HostPatchPlan",
    );
    await unlink(planFile);
    expect((await planGone).object.metadata.uid).toBe(p.metadata.uid);
    expect((await child).object.metadata.name).toBe("nodes-pve1");
    expect(await store.get("HostPatchPlan", "", "nodes")).toBeUndefined();
    expect(await store.list("HostPatch")).toEqual([]);
    await expect(readdir(join(dirs.state, "objects", "HostPatch", "_"))).resolves.toEqual([]);
  });

  it("a new file arrives as ADDED", async () => {
    await withPlan();
    const store = await openStore({ watch: true });
    const rec = new EventRecorder(store);
    const added = rec.next("ADDED", (e) => e.type === "ADDED" && e.object.metadata.name === "second");
    await mkdir(join(dirs.desired, "more"));
    await write(join(dirs.desired, "more"), "second.yml", planYaml({ name: "second", nodes: "pve2" }));
    const e = await added;
    expect(e.object.kind).toBe("HostPatchPlan");
    expect(e.object.metadata.generation).toBe(1);
  });
});

describe("FileStore: the desired-state directory itself", () => {
  it("refuses to start without a desired-state directory", async () => {
    const err = await openStore({ desiredDir: join(dirs.desired, "missing") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).reason).toBe("DesiredStateMissing");
  });

  it("keeps the objects in force while the directory is gone, and follows it when it comes back", async () => {
    await withPlan();
    const store = await openStore({ watch: true });
    const rec = new EventRecorder(store);
    const invalid = rec.next(
      "InvalidSpec on the plan",
      (e) => e.object.kind === "HostPatchPlan" && readyOf(e.object)?.reason === "InvalidSpec",
    );
    await rename(dirs.desired, `${dirs.desired}.moved`);
    expect(readyOf((await invalid).object)?.message).toContain("not a directory");
    expect(store.desiredIssues()).toEqual([expect.stringContaining("not a directory")]);
    expect(await store.get("HostPatchPlan", "", "nodes")).toBeDefined();
    expect(await store.get("ProxmoxCluster", "", "lab")).toBeDefined();

    const modified = rec.next(
      "plan generation 2",
      (e) => e.type === "MODIFIED" && e.object.kind === "HostPatchPlan" && e.object.metadata.generation === 2,
    );
    await mkdir(dirs.desired);
    await write(dirs.desired, "cluster.yaml", CLUSTER_YAML);
    await write(dirs.desired, "plan.yaml", planYaml({ nodes: "pve2" }));
    expect(readyOf((await modified).object)?.reason).not.toBe("InvalidSpec");
    expect(store.desiredIssues()).toEqual([]);
  });

  it("follows a symlink that a deploy points at another directory", async () => {
    const v1 = join(dirs.desired, "v1");
    const v2 = join(dirs.desired, "v2");
    await mkdir(v1);
    await mkdir(v2);
    await write(v1, "cluster.yaml", CLUSTER_YAML);
    await write(v1, "plan.yaml", planYaml());
    await write(v2, "cluster.yaml", CLUSTER_YAML);
    await write(v2, "plan.yaml", planYaml({ nodes: "pve3" }));
    const link = join(dirs.state, "..", "current");
    await symlink(v1, link);
    const store = await openStore({ desiredDir: link, watch: true, resyncMs: 200 });
    const rec = new EventRecorder(store);
    const modified = rec.next(
      "MODIFIED plan",
      (e) => e.type === "MODIFIED" && e.object.kind === "HostPatchPlan",
    );
    // The usual atomic swap: a new link renamed over the old one.
    await symlink(v2, `${link}.new`);
    await rename(`${link}.new`, link);
    const event = await modified;
    expect((event.object as RefitObjectOf<"HostPatchPlan">).spec.targets).toEqual({ nodes: ["pve3"] });

    // And edits in the new directory are watched.
    const again = rec.next(
      "MODIFIED plan",
      (e) => e.type === "MODIFIED" && e.object.metadata.generation === 3,
    );
    await write(v2, "plan.yaml", planYaml({ nodes: "pve4" }));
    await again;
  });
});

describe("FileStore: children", () => {
  it("creates, lists by label, updates and deletes children; generation moves with the spec only", async () => {
    await withPlan(planYaml() + "---\n" + planYaml({ name: "other" }));
    const store = await openStore();
    const p = await plan(store);
    const other = await plan(store, "other");
    const rec = new EventRecorder(store);

    const a = await store.create(hostPatch("nodes-pve1", p));
    await store.create(hostPatch("nodes-pve2", p));
    await store.create(hostPatch("other-pve1", other));
    expect(a.metadata).toMatchObject({ generation: 1, creationTimestamp: "2026-01-01T00:00:00.000Z" });
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.status).toBeUndefined();
    await expect(store.create(hostPatch("nodes-pve1", p))).rejects.toBeInstanceOf(AlreadyExistsError);

    const mine = await store.list("HostPatch", { labels: { "refit.dev/plan": "nodes" } });
    expect(mine.map((h) => h.metadata.name)).toEqual(["nodes-pve1", "nodes-pve2"]);
    expect((await store.list("HostPatch")).length).toBe(3);
    expect(await store.list("HostPatch", { labels: { "refit.dev/plan": "nodes", x: "y" } })).toEqual([]);

    // Status: resourceVersion moves, generation does not.
    const s1 = await store.updateStatus({ ...a, status: { phase: "Upgrading" } });
    expect(s1.metadata.generation).toBe(1);
    expect(s1.status?.phase).toBe("Upgrading");
    // Labels only: no generation bump; status is not touched by update.
    const l1 = await store.update({
      ...s1,
      metadata: { ...s1.metadata, labels: { ...s1.metadata.labels, extra: "1" } },
      status: { phase: "Failed" },
    });
    expect(l1.metadata.generation).toBe(1);
    expect(l1.status?.phase).toBe("Upgrading");
    // Spec: generation bumps.
    const g2 = await store.update({ ...l1, spec: { ...l1.spec, cycle: "c2" } });
    expect(g2.metadata.generation).toBe(2);
    expect(Number(g2.metadata.resourceVersion)).toBeGreaterThan(Number(l1.metadata.resourceVersion));
    await expect(store.update({ ...l1, spec: { ...l1.spec, cycle: "c3" } })).rejects.toBeInstanceOf(
      ConflictError,
    );

    await store.delete("HostPatch", "", "nodes-pve2");
    await expect(store.delete("HostPatch", "", "nodes-pve2")).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      store.updateStatus({ ...g2, metadata: { ...g2.metadata, name: "nope" } }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(rec.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "ADDED nodes-pve1",
      "ADDED nodes-pve2",
      "ADDED other-pve1",
      "MODIFIED nodes-pve1",
      "MODIFIED nodes-pve1",
      "MODIFIED nodes-pve1",
      "DELETED nodes-pve2",
    ]);

    // Everything is on disk: a restart sees the same children.
    await closeStore(store);
    const again = await openStore();
    const back = await again.get("HostPatch", "", "nodes-pve1");
    expect(back).toEqual(g2);
    expect(await again.get("HostPatch", "", "nodes-pve2")).toBeUndefined();
    // New resourceVersions continue above the stored ones.
    const next = await again.updateStatus({ ...g2, status: { phase: "Verifying" } });
    expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(g2.metadata.resourceVersion));
  });

  it("validates children against their schema", async () => {
    await withPlan();
    const store = await openStore();
    const bad = hostPatch("nodes-pve1", await plan(store));
    (bad.spec as { profile: string }).profile = "windows";
    const err = await store.create(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidObjectError);
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as Error).message).toContain("spec.profile");
    const ok = await store.create(hostPatch("nodes-pve1", await plan(store)));
    await expect(store.updateStatus({ ...ok, status: { phase: "Exploded" } } as never)).rejects.toThrow(
      /status\.phase/,
    );
    await expect(store.create({ ...ok, kind: "Pod" } as never)).rejects.toThrow(/unknown kind "Pod"/);
    const { resourceVersion: _rv, ...noVersion } = ok.metadata;
    await expect(store.update({ ...ok, metadata: noVersion })).rejects.toThrow(/resourceVersion is required/);
  });

  it("refuses a child whose owner uid does not exist (owner deleted or recreated since it was read)", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    const stale = { ...p, metadata: { ...p.metadata, uid: "00000000-0000-4000-8000-000000000000" } };
    await expect(store.create(hostPatch("nodes-pve1", stale))).rejects.toThrow(
      /owner HostPatchPlan\/nodes \(uid 00000000-0000-4000-8000-000000000000\) does not exist/,
    );
  });

  it("deleting an owner deletes what it owns, transitively; finalizers hold an object until they are removed", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    const a = await store.create(hostPatch("a", p));
    const ownedBy = (o: RefitObjectOf<"HostPatch">) => [
      {
        apiVersion: "refit.dev/v1alpha1",
        kind: "HostPatch",
        name: o.metadata.name,
        uid: o.metadata.uid ?? "",
        controller: true,
      },
    ];
    const b = await store.create<RefitObjectOf<"HostPatch">>({
      ...hostPatch("b"),
      metadata: { name: "b", ownerReferences: ownedBy(a) },
    });
    await store.create<RefitObjectOf<"HostPatch">>({
      ...hostPatch("c"),
      metadata: { name: "c", ownerReferences: ownedBy(b), finalizers: ["refit.dev/cleanup"] },
    });
    const rec = new EventRecorder(store);
    await store.delete("HostPatch", "", "a");
    expect(await store.get("HostPatch", "", "a")).toBeUndefined();
    expect(await store.get("HostPatch", "", "b")).toBeUndefined();
    const marked = await store.get("HostPatch", "", "c");
    expect(marked?.metadata.deletionTimestamp).toBe("2026-01-01T00:00:00.000Z");
    expect(rec.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "DELETED a",
      "DELETED b",
      "MODIFIED c",
    ]);

    // The reconciler finishes its cleanup and removes the finalizer: now it is gone.
    if (!marked) throw new Error("c vanished");
    await store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    expect(await store.get("HostPatch", "", "c")).toBeUndefined();
    expect(rec.events.at(-1)).toMatchObject({ type: "DELETED", object: { metadata: { name: "c" } } });
  });

  it("an object with another owner still alive survives the deletion of one owner", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    const a = await store.create(hostPatch("a", p));
    const ref = { apiVersion: "refit.dev/v1alpha1", kind: "HostPatch", name: "a", uid: a.metadata.uid ?? "" };
    const pref = {
      apiVersion: "refit.dev/v1alpha1",
      kind: "HostPatchPlan",
      name: "nodes",
      uid: p.metadata.uid ?? "",
    };
    await store.create({
      ...hostPatch("shared"),
      metadata: { name: "shared", ownerReferences: [ref, pref] },
    });
    await store.delete("HostPatch", "", "a");
    expect(await store.get("HostPatch", "", "shared")).toBeDefined();
  });

  it("writes atomically: concurrent readers always parse a whole file, and no temporary file is left", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    const names = Array.from({ length: 8 }, (_, i) => `nodes-pve${i}`);
    for (const n of names) await store.create(hostPatch(n, p));
    const paths = names.map((n) => join(dirs.state, "objects", "HostPatch", "_", `${n}.json`));

    let writing = true;
    let reads = 0;
    const problems: string[] = [];
    const lastRv = new Map<string, number>();
    const reader = (async () => {
      while (writing) {
        for (const path of paths) {
          const text = await readFile(path, "utf8");
          let rv: number;
          try {
            rv = Number((JSON.parse(text) as RefitObjectOf<"HostPatch">).metadata.resourceVersion);
          } catch (err) {
            problems.push(`${path}: ${(err as Error).message} (${text.length} bytes)`);
            continue;
          }
          // Files only move forward: a later write never lands under an earlier one.
          if (rv < (lastRv.get(path) ?? 0)) problems.push(`${path}: resourceVersion went back to ${rv}`);
          lastRv.set(path, rv);
          reads++;
        }
      }
    })();
    await Promise.all(
      names.map(async (n) => {
        for (let i = 0; i < 25; i++) {
          const cur = await store.get("HostPatch", "", n);
          if (!cur) throw new Error(`${n} missing`);
          // A large status makes a torn write likely to show, were writes not atomic.
          await store.updateStatus({
            ...cur,
            status: { phase: "Upgrading", message: `step ${i} ${"x".repeat(20_000)}` },
          });
        }
      }),
    );
    writing = false;
    await reader;
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    for (const [i, path] of paths.entries()) {
      const onDisk = JSON.parse(await readFile(path, "utf8")) as RefitObjectOf<"HostPatch">;
      expect(onDisk).toEqual(await store.get("HostPatch", "", names[i] ?? ""));
      expect(onDisk.status?.message).toMatch(/^step 24 /);
    }
    expect(
      (await readdir(join(dirs.state, "objects", "HostPatch", "_"))).filter((f) => f.endsWith(".tmp")),
    ).toEqual([]);
  });

  it("sweeps temporary files left by a crash and ignores (and reports) a state file that does not parse", async () => {
    await withPlan();
    const store = await openStore();
    await store.create(hostPatch("nodes-pve1", await plan(store)));
    await closeStore(store);
    const dir = join(dirs.state, "objects", "HostPatch", "_");
    await writeFile(join(dir, ".nodes-pve1.json.999.abcdef.tmp"), '{"half');
    await writeFile(join(dir, "broken.json"), "{ not json");
    const again = await openStore();
    expect((await readdir(dir)).sort()).toEqual(["broken.json", "nodes-pve1.json"]);
    expect((await again.list("HostPatch")).map((h) => h.metadata.name)).toEqual(["nodes-pve1"]);
    expect(log.lines.some((l) => l.level === "error" && l.fields.file === join(dir, "broken.json"))).toBe(
      true,
    );
  });
});

describe("FileStore: state directory lock", () => {
  it("a second store on the same state directory fails with a TerminalError naming the holder", async () => {
    await withPlan();
    await openStore();
    const err = await openStore().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).reason).toBe("StateDirLocked");
    expect((err as Error).message).toContain(`pid ${process.pid} on host ${hostname()}`);
    expect((err as Error).message).toContain(join(dirs.state, "refit.lock"));
  });

  it("close releases the lock so the next controller can start", async () => {
    await withPlan();
    const first = await openStore();
    await closeStore(first);
    await expect(readdir(dirs.state)).resolves.not.toContain("refit.lock");
    await openStore();
    const holder = JSON.parse(await readFile(join(dirs.state, "refit.lock"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(holder).toEqual({ pid: process.pid, hostname: hostname(), startedAt: "2026-01-01T00:00:00.000Z" });
  });

  it("takes over a stale lock whose process is no longer running, with a log line", async () => {
    await withPlan();
    const child = spawn(process.execPath, ["-e", ""]);
    await once(child, "exit");
    const deadPid = child.pid ?? 0;
    await mkdir(dirs.state, { recursive: true });
    await writeFile(
      join(dirs.state, "refit.lock"),
      JSON.stringify({ pid: deadPid, hostname: hostname(), startedAt: "2025-12-31T00:00:00.000Z" }),
    );
    const store = await openStore();
    expect((await plan(store)).metadata.name).toBe("nodes");
    const line = log.lines.find((l) => l.msg.startsWith("taking over stale state lock"));
    expect(line?.msg).toContain(`pid ${deadPid} on host ${hostname()}`);
    const holder = JSON.parse(await readFile(join(dirs.state, "refit.lock"), "utf8")) as { pid: number };
    expect(holder.pid).toBe(process.pid);
    await expect(readdir(dirs.state)).resolves.not.toContain("refit.lock.takeover");
  });

  it("does not take over a lock held on another host", async () => {
    await withPlan();
    await mkdir(dirs.state, { recursive: true });
    await writeFile(
      join(dirs.state, "refit.lock"),
      JSON.stringify({ pid: 1, hostname: "other-host.example", startedAt: "2025-12-31T00:00:00.000Z" }),
    );
    await expect(openStore()).rejects.toThrow(
      /in use by another controller: pid 1 on host other-host\.example/,
    );
  });

  it("a lock naming this pid but not held by this process is from an earlier life of the pid (container restart)", async () => {
    await withPlan();
    await mkdir(dirs.state, { recursive: true });
    await writeFile(
      join(dirs.state, "refit.lock"),
      JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: "2025-12-31T00:00:00.000Z" }),
    );
    await openStore();
    expect(log.lines.some((l) => l.msg.startsWith("taking over stale state lock"))).toBe(true);
  });
});

describe("FileStore: git revision", () => {
  it("records the checkout's revision as status.observedRevision, with -dirty while files differ from HEAD", async () => {
    await withPlan();
    await git(dirs.desired, "init", "-q");
    await git(dirs.desired, "add", ".");
    await git(dirs.desired, "commit", "-q", "-m", "fleet");
    const sha = await git(dirs.desired, "rev-parse", "HEAD");
    expect(sha).toMatch(/^[0-9a-f]{40}$/);

    const store = await openStore({ watch: true });
    expect(store.revision()).toBe(sha);
    let p = await plan(store);
    p = await store.updateStatus({ ...p, status: { phase: "Idle" } });
    expect(p.status?.observedRevision).toBe(sha);

    // Children's status writes record it too.
    const child = await store.create(hostPatch("nodes-pve1", p));
    expect(
      (await store.updateStatus<RefitObjectOf<"HostPatch">>({ ...child, status: { phase: "Pending" } }))
        .status?.observedRevision,
    ).toBe(sha);

    // An uncommitted edit: dirty.
    await writeFile(join(dirs.desired, "plan.yaml"), planYaml({ nodes: "pve1" }));
    await eventually("dirty revision", () => (store.revision() === `${sha}-dirty` ? true : undefined));
    p = await plan(store);
    p = await store.updateStatus({ ...p, status: { phase: "Progressing" } });
    expect(p.status?.observedRevision).toBe(`${sha}-dirty`);

    // Committing changes no watched YAML file, yet the revision follows HEAD.
    await git(dirs.desired, "commit", "-q", "-am", "only pve1");
    const sha2 = await git(dirs.desired, "rev-parse", "HEAD");
    await eventually("new revision", () => (store.revision() === sha2 ? true : undefined));
    p = await store.updateStatus({ ...(await plan(store)), status: { phase: "Idle" } });
    expect(p.status?.observedRevision).toBe(sha2);
  });

  it("outside a git checkout there is no revision and status carries none", async () => {
    await withPlan();
    const store = await openStore();
    expect(store.revision()).toBeUndefined();
    const p = await store.updateStatus({
      ...(await plan(store)),
      status: { phase: "Idle", observedRevision: "stale" },
    });
    expect(p.status?.observedRevision).toBeUndefined();
  });
});

describe("FileStore: state directory contents", () => {
  it("uids live in the state directory: a wiped state directory starts fresh with new uids", async () => {
    await withPlan();
    const store = await openStore();
    const p = await plan(store);
    await closeStore(store);
    await rm(dirs.state, { recursive: true, force: true });
    const fresh = await openStore();
    expect((await plan(fresh)).metadata.uid).not.toBe(p.metadata.uid);
  });
});
