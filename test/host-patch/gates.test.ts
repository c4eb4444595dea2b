import { describe, expect, it } from "vitest";
import {
  GATES,
  PVE_GATES,
  evaluateGates,
  gateVerdicts,
  type Gate,
  type GateInput,
  type GateSafety,
  type GateVerdict,
  type ProfileObserved,
  type PveObserved,
} from "../../controller/host-patch/gates/index.js";
import { gateResult } from "../../src/api/host-patch.js";
import { hostPatchPlanSpec, hostProfile, type HostProfile } from "../../src/api/host-patch-plan.js";
import {
  BOOT_ID_ARGV,
  BOOT_TOOL_KERNEL_LIST_ARGV,
  CLUSTER_RESOURCES_ARGV,
  CLUSTER_OPTIONS_ARGV,
  CLUSTER_STATUS_ARGV,
  DF_ROOT_ARGV,
  HA_CURRENT_ARGV,
  HA_MANAGER_STATUS_ARGV,
  PVECM_STATUS_ARGV,
  PVEVERSION_ARGV,
  UNAME_R_ARGV,
  ZPOOL_STATUS_X_ARGV,
  activeTasksArgv,
  available,
  combineReboot,
  parseCephHealth,
  type CephState,
  nodeStatusArgv,
  parseBootId,
  parseBootKernelList,
  parseClusterResources,
  parseClusterOptions,
  parseClusterStatus,
  parseDfPosix,
  parseHaCurrent,
  parseHaManagerStatus,
  parseNodeStatus,
  parsePveVersion,
  parsePvecmStatus,
  parseTaskList,
  parseUnameRelease,
  parseZpoolStatusX,
  quorumView,
  stepObserved,
  unavailable,
  type ClusterObservation,
  type NodeObservation,
  type Observed,
  type ParseContext,
} from "../../src/pve/index.js";
import { fixture } from "../pve/helpers.js";

// ---- builders: every part goes through the real parser, the way observeNode/observeCluster read it

/** What one step of a batch printed: exit code and merged output. */
interface Printed {
  readonly output: string;
  readonly exitCode?: number;
}

const notFound = (argv: readonly string[]): Printed => ({
  output: `sh: 1: ${argv[0] ?? ""}: not found\n`,
  exitCode: 127,
});

function step<T>(
  argv: readonly string[],
  printed: Printed,
  parse: (text: string, ctx: ParseContext) => T,
): Observed<T> {
  return stepObserved({ argv, exitCode: printed.exitCode ?? 0, output: printed.output }, "pve1", parse);
}

interface NodePrints {
  readonly pveversion?: Printed;
  readonly zpool?: Printed;
  readonly df?: Printed;
  readonly tasks?: Printed;
}

/** A node observation from what each command printed; defaults: a healthy, idle PVE 8 node. */
function nodeObs(node: string, p: NodePrints = {}): NodeObservation {
  const runningKernel = step(UNAME_R_ARGV, { output: fixture("uname-r.txt") }, parseUnameRelease);
  const bootKernels = step(
    BOOT_TOOL_KERNEL_LIST_ARGV,
    { output: fixture("boot-tool.auto.txt") },
    parseBootKernelList,
  );
  const rebootFlag = available({ required: false, packages: [] });
  return {
    node,
    status: step(nodeStatusArgv(node), { output: fixture("node-status.pve9.json.out") }, parseNodeStatus),
    bootId: step(BOOT_ID_ARGV, { output: fixture("boot-id.txt") }, parseBootId),
    runningKernel,
    bootKernels,
    rebootFlag,
    reboot: combineReboot(runningKernel, bootKernels, rebootFlag),
    rootDisk: step(DF_ROOT_ARGV, p.df ?? { output: fixture("df-root.zfs.txt") }, parseDfPosix),
    zfs: step(ZPOOL_STATUS_X_ARGV, p.zpool ?? { output: "all pools are healthy\n" }, parseZpoolStatusX),
    activeTasks: step(activeTasksArgv(node), p.tasks ?? { output: "[]" }, parseTaskList),
    pveVersion: step(PVEVERSION_ARGV, p.pveversion ?? { output: fixture("pveversion.txt") }, parsePveVersion),
  };
}

interface ClusterPrints {
  readonly status?: Printed;
  readonly pvecm?: Printed;
  readonly ha?: Printed;
}

/** The three-node cluster `pvec` of cluster-status.one-down, with pve3 back online. */
const THREE_ONLINE = fixture("cluster-status.one-down.json.out").replace('"online":0', '"online":1');

/** pvecm-status.cli as a two-node cluster prints it: 2 votes, quorum 2. */
const PVECM_TWO_NODES = fixture("pvecm-status.cli.txt")
  .replace(/^Nodes:( +)3$/m, "Nodes:$12")
  .replace(/^Expected votes:( +)3$/m, "Expected votes:$12")
  .replace(/^Highest expected:( +)3$/m, "Highest expected:$12")
  .replace(/^Total votes:( +)3$/m, "Total votes:$12")
  .replace(/^0x00000003 .*\n?/m, "");

/** A cluster observation combined exactly as observeCluster combines status and votes. */
function clusterObs(p: ClusterPrints = {}): ClusterObservation {
  const status = step(CLUSTER_STATUS_ARGV, p.status ?? { output: THREE_ONLINE }, parseClusterStatus);
  const votes = step(
    PVECM_STATUS_ARGV,
    p.pvecm ?? { output: fixture("pvecm-status.cli.txt") },
    parsePvecmStatus,
  );
  return {
    status,
    votes,
    quorum: status.ok ? available(quorumView(status.value, votes.ok ? votes.value : undefined)) : status,
    resources: step(
      CLUSTER_RESOURCES_ARGV,
      { output: fixture("cluster-resources.exporter.json.out") },
      parseClusterResources,
    ),
    haManager: step(
      HA_MANAGER_STATUS_ARGV,
      p.ha ?? { output: fixture("ha-manager-status.json.out") },
      parseHaManagerStatus,
    ),
    haCurrent: step(HA_CURRENT_ARGV, { output: fixture("ha-current.json.out") }, parseHaCurrent),
    options: step(CLUSTER_OPTIONS_ARGV, { output: "{}" }, parseClusterOptions),
  };
}

const SAFE: GateSafety = { requireQuorum: true, requireAllNodesOnline: true };

function spec(gates: Record<string, unknown> = {}) {
  return hostPatchPlanSpec.parse({ clusterRef: { name: "lab" }, targets: { nodes: ["pve*"] }, gates });
}

interface PveScenario {
  readonly host?: string;
  readonly node?: NodePrints;
  readonly cluster?: ClusterPrints;
  readonly gates?: Record<string, unknown>;
  readonly safety?: GateSafety;
  /** Ceph as the node sees it; default: no Ceph on the cluster. */
  readonly ceph?: Observed<CephState>;
  readonly spec?: Record<string, unknown>;
}

function pveInput(s: PveScenario = {}): GateInput<PveObserved> {
  const host = s.host ?? "pve1";
  return {
    host,
    spec: s.spec
      ? hostPatchPlanSpec.parse({
          ...s.spec,
          clusterRef: { name: "lab" },
          targets: { nodes: ["pve*"] },
          gates: s.gates ?? {},
        })
      : spec(s.gates),
    safety: s.safety ?? SAFE,
    observed: {
      node: nodeObs(host, s.node),
      cluster: clusterObs(s.cluster),
      ceph: { state: s.ceph ?? available({ kind: "none" }) },
    },
  };
}

/** Replaces one observation part, named by its path ("node.zfs"). */
function withPart<O>(input: GateInput<O>, path: string, part: Observed<unknown> | undefined): GateInput<O> {
  const [section = "", field = ""] = path.split(".");
  const observed = input.observed as Record<string, Record<string, unknown>>;
  const replaced = { ...observed, [section]: { ...observed[section], [field]: part } };
  return { ...input, observed: replaced as O };
}

/** Every Observed part of an input, by path. */
function partPaths(input: GateInput<unknown>): string[] {
  const observed = input.observed as Record<string, Record<string, unknown>>;
  return Object.entries(observed).flatMap(([section, parts]) =>
    Object.entries(parts)
      .filter(
        ([, v]) => typeof v === "object" && v !== null && typeof (v as { ok?: unknown }).ok === "boolean",
      )
      .map(([field]) => `${section}.${field}`),
  );
}

// ---- the case table: for every registered gate, passing and failing inputs

interface GateCase<O> {
  readonly name: string;
  readonly input: GateInput<O>;
  readonly verdict: GateVerdict;
}

interface GateCases<O> {
  readonly pass: readonly GateCase<O>[];
  readonly fail: readonly GateCase<O>[];
}

type CaseTable = { readonly [P in HostProfile]?: Readonly<Record<string, GateCases<ProfileObserved[P]>>> };

const pass = (message: string): GateVerdict => ({ open: true, message });
const fail = (reason: string, message: string): GateVerdict => ({ open: false, reason, message });
const cannot = (reason: string): GateVerdict =>
  ({
    open: false,
    reason,
    message: expect.stringMatching(new RegExp(`^cannot be evaluated: .+ \\(${reason}\\)$`)) as unknown,
  }) as GateVerdict;

const ZFS_DEGRADED: Printed = { output: fixture("zpool-x.degraded.txt") };
const ONE_DOWN: Printed = { output: fixture("cluster-status.one-down.json.out") };
const STANDALONE: ClusterPrints = {
  status: { output: fixture("cluster-status.standalone.json.out") },
  pvecm: { output: fixture("pvecm-status.standalone.txt"), exitCode: 2 },
};
const TWO_NODES: ClusterPrints = {
  status: { output: fixture("cluster-status.exporter.json.out") },
  pvecm: { output: PVECM_TWO_NODES },
};

function ceph(name: string): Observed<CephState> {
  return available({ kind: "ceph", health: parseCephHealth(fixture(`ceph-health-detail.${name}.json.out`)) });
}

/** pve2 back and recovered, its own noout flag still set. */
function recovered(): Observed<CephState> {
  const h = parseCephHealth(fixture("ceph-health-detail.recovering.json.out"));
  return available({
    kind: "ceph",
    health: { status: "HEALTH_WARN", checks: h.checks.filter((c) => c.code === "OSD_FLAGS") },
  });
}

const CASES: CaseTable = {
  pve: {
    pveVersion: {
      pass: [
        { name: "pveversion prints pve-manager", input: pveInput(), verdict: pass("pve-manager 8.4.1") },
      ],
      fail: [
        {
          name: "pveversion is missing: not a PVE node",
          input: pveInput({ node: { pveversion: notFound(PVEVERSION_ARGV) } }),
          verdict: cannot("CommandMissing"),
        },
      ],
    },
    zfsHealthy: {
      pass: [
        { name: "all pools healthy", input: pveInput(), verdict: pass("all pools are healthy") },
        {
          name: "no pools at all",
          input: pveInput({ node: { zpool: { output: "no pools available\n" } } }),
          verdict: pass("no ZFS pools"),
        },
      ],
      fail: [
        {
          name: "a degraded mirror",
          input: pveInput({ node: { zpool: ZFS_DEGRADED } }),
          verdict: fail("ZfsUnhealthy", "ZFS is not healthy: pool: rpool"),
        },
      ],
    },
    rootFsUsage: {
      pass: [
        {
          name: "root on ZFS, 6% used",
          input: pveInput(),
          verdict: pass("/ is 6% used, 88.9 GiB free (limit 90%)"),
        },
      ],
      fail: [
        {
          name: "a full LVM root",
          input: pveInput({ node: { df: { output: fixture("df-root.lvm-full.txt") } } }),
          verdict: fail("RootFsFull", "/ is 100% used, 0.0 GiB free (limit 90%)"),
        },
        {
          name: "less free than rootFsMinFreeGiB",
          input: pveInput({ gates: { rootFsMinFreeGiB: 100 } }),
          verdict: fail("RootFsFull", "/ is 6% used, 88.9 GiB free (limit 90%, at least 100 GiB free)"),
        },
        {
          name: "more used than rootFsMaxUsedPercent",
          input: pveInput({ gates: { rootFsMaxUsedPercent: 5 } }),
          verdict: fail("RootFsFull", "/ is 6% used, 88.9 GiB free (limit 5%)"),
        },
      ],
    },
    clusterQuorate: {
      pass: [
        { name: "quorate cluster", input: pveInput(), verdict: pass("cluster pvec is quorate") },
        {
          name: "standalone node",
          input: pveInput({ host: "pve", cluster: STANDALONE }),
          verdict: pass("standalone node"),
        },
      ],
      fail: [
        {
          name: "pvecm says not quorate",
          input: pveInput({
            cluster: { status: ONE_DOWN, pvecm: { output: fixture("pvecm-status.not-quorate.txt") } },
          }),
          verdict: fail("NoQuorum", "cluster pvec has no quorum"),
        },
      ],
    },
    allNodesOnline: {
      pass: [
        { name: "all three online", input: pveInput(), verdict: pass("every other node is online") },
        {
          name: "only the node itself is offline",
          input: pveInput({ host: "pve3", cluster: { status: ONE_DOWN } }),
          verdict: pass("every other node is online"),
        },
      ],
      fail: [
        {
          name: "another node is offline",
          input: pveInput({ cluster: { status: ONE_DOWN } }),
          verdict: fail("NodesOffline", "offline: pve3; not taking another node down"),
        },
      ],
    },
    keepsQuorum: {
      pass: [
        {
          name: "three nodes, one goes down",
          input: pveInput(),
          verdict: pass("2 of 3 votes remain with pve1 down (quorum 2)"),
        },
        {
          name: "standalone: no quorum to lose",
          input: pveInput({ host: "pve", cluster: STANDALONE }),
          verdict: pass("0 of 1 votes remain with pve down (quorum 1)"),
        },
        {
          name: "two nodes and a voting QDevice",
          input: pveInput({
            cluster: { status: TWO_NODES.status, pvecm: { output: fixture("pvecm-status.qdevice.txt") } },
          }),
          verdict: pass("2 of 3 votes remain with pve1 down (quorum 2; 1 from the QDevice)"),
        },
        {
          name: "two_node: quorum stays 1",
          input: pveInput({
            cluster: { status: TWO_NODES.status, pvecm: { output: fixture("pvecm-status.two-node.txt") } },
          }),
          verdict: pass("1 of 2 votes remain with pve1 down (quorum 1; two_node: quorum stays 1)"),
        },
        {
          name: "a one-vote node beside a two-vote node",
          input: pveInput({
            host: "pve2",
            cluster: { pvecm: { output: fixture("pvecm-status.multi-vote.txt") } },
          }),
          verdict: pass("3 of 4 votes remain with pve2 down (quorum 3)"),
        },
      ],
      fail: [
        {
          name: "two nodes: rebooting one loses quorum",
          input: pveInput({ cluster: TWO_NODES }),
          verdict: fail(
            "WouldLoseQuorum",
            "rebooting pve1 would lose quorum: 1 votes remain, quorum needs 2",
          ),
        },
        {
          name: "the node with two votes",
          input: pveInput({ cluster: { pvecm: { output: fixture("pvecm-status.multi-vote.txt") } } }),
          verdict: fail(
            "WouldLoseQuorum",
            "rebooting pve1 would lose quorum: 2 votes remain, quorum needs 3; pve1 holds 2 votes",
          ),
        },
        {
          name: "a QDevice that casts no vote",
          input: pveInput({
            cluster: {
              status: TWO_NODES.status,
              pvecm: { output: fixture("pvecm-status.qdevice-dead.txt") },
            },
          }),
          verdict: fail(
            "WouldLoseQuorum",
            "rebooting pve1 would lose quorum: 1 votes remain, quorum needs 2; the QDevice casts no vote (check corosync-qdevice and the qnetd host, port 5403)",
          ),
        },
        {
          name: "a cluster whose pvecm fails: votes unknown",
          input: pveInput({
            cluster: {
              status: TWO_NODES.status,
              pvecm: { output: "Cannot initialize CMAP service\n", exitCode: 2 },
            },
          }),
          verdict: fail(
            "VotesUnknown",
            "cannot be evaluated: the votes of the cluster or of pve1 are unknown (pvecm status failed or does not list pve1)",
          ),
        },
      ],
    },
    noActiveTasks: {
      pass: [{ name: "no tasks", input: pveInput(), verdict: pass("no active tasks") }],
      fail: [
        {
          name: "a migration and a backup running",
          input: pveInput({ node: { tasks: { output: fixture("tasks-active.json.out") } } }),
          verdict: fail("TasksActive", "active tasks: qmigrate:100, vzdump:104, aptupdate"),
        },
      ],
    },
    haManagerAlive: {
      pass: [
        { name: "a master", input: pveInput(), verdict: pass("HA manager master is pve1") },
        {
          name: "HA never configured",
          input: pveInput({
            cluster: { ha: { output: fixture("ha-manager-status.unconfigured.json.out") } },
          }),
          verdict: pass("HA is not configured"),
        },
      ],
      fail: [
        {
          name: "nodes known, no master",
          input: pveInput({
            cluster: {
              ha: {
                output: JSON.stringify({
                  manager_status: { node_status: { pve1: "online", pve2: "online", pve3: "online" } },
                  quorum: { node: "pve1", quorate: "1" },
                }),
              },
            },
          }),
          verdict: fail("NoHaMaster", "HA is configured but has no active master"),
        },
      ],
    },
    cephHealthy: {
      pass: [
        {
          name: "no Ceph on the cluster",
          input: pveInput(),
          verdict: pass("Ceph is not set up on this cluster"),
        },
        { name: "HEALTH_OK", input: pveInput({ ceph: ceph("ok") }), verdict: pass("Ceph is HEALTH_OK") },
        {
          name: "only this node's own noout flag left (a resumed cycle)",
          input: pveInput({ host: "pve2", ceph: recovered() }),
          verdict: pass("Ceph is HEALTH_OK"),
        },
        {
          name: "HEALTH_WARN allowed by the plan",
          input: pveInput({ ceph: ceph("noout-global"), spec: { ceph: { allowHealthWarn: true } } }),
          verdict: pass(
            "Ceph is HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set), allowed by ceph.allowHealthWarn",
          ),
        },
      ],
      fail: [
        {
          name: "HEALTH_WARN not allowed",
          input: pveInput({ ceph: ceph("noout-global") }),
          verdict: fail(
            "CephHealthWarn",
            "Ceph is HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set); resolve it or set ceph.allowHealthWarn: true on the plan to patch anyway",
          ),
        },
        {
          name: "recovering after another node's reboot, even with HEALTH_WARN allowed",
          input: pveInput({
            host: "pve3",
            ceph: ceph("recovering"),
            spec: { ceph: { allowHealthWarn: true } },
          }),
          verdict: {
            open: false,
            reason: "CephRecovering",
            message: expect.stringMatching(
              /^Ceph is recovering: HEALTH_WARN \(OSD_FLAGS: .*; PG_DEGRADED: Degraded data redundancy: .*\); no node goes down until it is HEALTH_OK$/,
            ) as unknown,
          } as GateVerdict,
        },
        {
          name: "HEALTH_ERR",
          input: pveInput({ ceph: ceph("err"), spec: { ceph: { allowHealthWarn: true } } }),
          verdict: fail(
            "CephHealthErr",
            "Ceph is HEALTH_ERR (OSD_FULL: 1 full osd(s)); not taking a node down",
          ),
        },
        {
          name: "ceph.conf present but the monitors do not answer",
          input: pveInput({
            ceph: unavailable("CommandFailed", "ceph health on pve1 failed: [errno 110] RADOS timed out"),
          }),
          verdict: cannot("CommandFailed"),
        },
      ],
    },
  },
};

/** Profiles whose gates are not written yet (their maps are empty lists in the registry). */
const NO_GATES_YET: readonly HostProfile[] = ["pbs", "debian"];

// ---- flattening per profile, so the contract checks below run over every profile alike

/** A gate with its profile's input type erased, so rows of every profile sit in one list. */
interface AnyGate {
  readonly id: string;
  readonly reads: readonly string[];
  evaluate(input: GateInput<unknown>): GateVerdict;
}

interface Row {
  readonly profile: HostProfile;
  readonly gate: AnyGate;
  readonly cases: GateCases<unknown> | undefined;
}

function rowsOf<P extends HostProfile>(profile: P): Row[] {
  const table = CASES[profile] as Readonly<Record<string, GateCases<unknown>>> | undefined;
  return (GATES[profile] as readonly Gate<unknown>[] as readonly AnyGate[]).map((gate) => ({
    profile,
    gate,
    cases: table?.[gate.id],
  }));
}

const PROFILES = hostProfile.options;
const ROWS = PROFILES.flatMap((p) => rowsOf(p));
const CASE_ROWS = ROWS.flatMap((r) =>
  (["pass", "fail"] as const).flatMap((kind) =>
    (r.cases?.[kind] ?? []).map((c) => ({
      label: `${r.profile}/${r.gate.id} ${kind}: ${c.name}`,
      row: r,
      kind,
      c,
    })),
  ),
);

describe("the gate registry", () => {
  it("has one entry per host profile", () => {
    expect(Object.keys(GATES).sort()).toEqual([...PROFILES].sort());
  });

  it("registers gates for at least one profile, so the checks below are not vacuous", () => {
    expect(ROWS.length).toBeGreaterThan(0);
    expect(PROFILES.filter((p) => GATES[p].length > 0)).toEqual(["pve"]);
  });

  it.each(NO_GATES_YET)("profile %s has no gates yet, and evaluating it closes instead of passing", (p) => {
    expect(GATES[p]).toEqual([]);
    expect(CASES[p]).toBeUndefined();
    const results = evaluateGates(p, { host: "pbs1", spec: spec(), safety: SAFE, observed: {} });
    expect(results).toEqual([
      {
        name: "gates",
        passed: false,
        message: `profile ${p} has no gates yet; a host is never patched ungated`,
      },
    ]);
  });

  it.each(PROFILES)("profile %s: gate ids are unique", (p) => {
    const ids = GATES[p].map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(PROFILES)("profile %s: the case table names exactly the registered gates", (p) => {
    const registered = GATES[p].map((g) => g.id).sort();
    expect(Object.keys(CASES[p] ?? {}).sort()).toEqual(registered);
  });

  it("lists the pve gates in today's order", () => {
    expect(PVE_GATES.map((g) => g.id)).toEqual([
      "pveVersion",
      "zfsHealthy",
      "rootFsUsage",
      "clusterQuorate",
      "allNodesOnline",
      "keepsQuorum",
      "noActiveTasks",
      "haManagerAlive",
      "cephHealthy",
    ]);
  });
});

describe.each(ROWS.map((r) => [`${r.profile}/${r.gate.id}`, r] as const))("gate %s", (_label, row) => {
  const { gate, cases } = row;

  it("declares what it reads, each a part the profile observes", () => {
    expect(gate.reads.length).toBeGreaterThan(0);
    expect(new Set(gate.reads).size).toBe(gate.reads.length);
    const first = cases?.pass[0];
    expect(first).toBeDefined();
    if (first) for (const path of gate.reads) expect(partPaths(first.input)).toContain(path);
  });

  it("has at least one passing and one failing case", () => {
    expect(cases?.pass.length ?? 0).toBeGreaterThan(0);
    expect(cases?.fail.length ?? 0).toBeGreaterThan(0);
  });

  it("needs every part it declares: some case varies each one", () => {
    const all = [...(cases?.pass ?? []), ...(cases?.fail ?? [])];
    const partOf = (i: GateInput<unknown>, path: string): string => {
      const [section = "", field = ""] = path.split(".");
      return JSON.stringify((i.observed as Record<string, Record<string, unknown>>)[section]?.[field]);
    };
    for (const path of gate.reads) {
      expect(new Set(all.map((c) => partOf(c.input, path))).size, path).toBeGreaterThan(1);
    }
  });

  it("is closed, with the part's reason, when any part it reads is unreadable", () => {
    const base = cases?.pass[0]?.input;
    expect(base).toBeDefined();
    if (!base) return;
    for (const path of gate.reads) {
      const broken = withPart(base, path, unavailable("UnparseableOutput", `garbled ${path}`));
      expect(gate.evaluate(broken), path).toEqual({
        open: false,
        reason: "UnparseableOutput",
        message: `cannot be evaluated: garbled ${path} (UnparseableOutput)`,
      });
      expect(gate.evaluate(withPart(base, path, undefined)), `${path} missing`).toEqual({
        open: false,
        reason: "NotObserved",
        message: `cannot be evaluated: ${path} was not observed (NotObserved)`,
      });
    }
  });

  it("reads nothing it does not declare: every other part unreadable changes nothing", () => {
    for (const c of [...(cases?.pass ?? []), ...(cases?.fail ?? [])]) {
      const others = partPaths(c.input).filter((p) => !gate.reads.includes(p));
      expect(others.length).toBeGreaterThan(0);
      const blind = others.reduce((i, p) => withPart(i, p, unavailable("CommandFailed", "x")), c.input);
      expect(gate.evaluate(blind), c.name).toEqual(gate.evaluate(c.input));
    }
  });
});

describe("gate cases", () => {
  it.each(CASE_ROWS.map((r) => [r.label, r] as const))("%s", (_label, { row, kind, c }) => {
    const verdict = row.gate.evaluate(c.input);
    expect(verdict).toEqual(c.verdict);
    expect(verdict.open).toBe(kind === "pass");
    if (!verdict.open) expect(verdict.reason).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});

describe("pve enable flags", () => {
  const ALL = PVE_GATES.map((g) => g.id);
  const names = (s: PveScenario) => evaluateGates("pve", pveInput(s)).map((r) => r.name);

  it("runs every pve gate by default", () => {
    expect(names({})).toEqual(ALL);
  });

  it.each([
    "pveVersion",
    "zfsHealthy",
    "clusterQuorate",
    "allNodesOnline",
    "keepsQuorum",
    "noActiveTasks",
    "haManagerAlive",
    "cephHealthy",
  ])("spec.gates.%s: false turns that gate off and nothing else", (id) => {
    expect(names({ gates: { [id]: false } })).toEqual(ALL.filter((n) => n !== id));
    expect(names({ gates: { [id]: true } })).toEqual(ALL);
  });

  it("rootFsUsage cannot be turned off, only its limits changed", () => {
    expect(() => spec({ rootFsUsage: false })).toThrow();
    expect(names({ gates: { rootFsMaxUsedPercent: 99, rootFsMinFreeGiB: 0 } })).toEqual(ALL);
  });

  it("the cluster's safety.requireQuorum / requireAllNodesOnline override a plan that turns them on", () => {
    const on = { clusterQuorate: true, allNodesOnline: true };
    expect(names({ gates: on, safety: { requireQuorum: false, requireAllNodesOnline: true } })).toEqual(
      ALL.filter((n) => n !== "clusterQuorate"),
    );
    expect(names({ gates: on, safety: { requireQuorum: true, requireAllNodesOnline: false } })).toEqual(
      ALL.filter((n) => n !== "allNodesOnline"),
    );
  });
});

describe("evaluateGates", () => {
  it("writes status.gates in the HostPatch schema's shape, reasons left on the verdicts", () => {
    const input = pveInput({ node: { zpool: ZFS_DEGRADED }, cluster: { status: ONE_DOWN } });
    const results = evaluateGates("pve", input);
    for (const r of results) expect(gateResult.parse(r)).toEqual(r);
    expect(results.filter((r) => !r.passed).map((r) => r.name)).toEqual(["zfsHealthy", "allNodesOnline"]);
    const verdicts = gateVerdicts("pve", input).filter((v) => !v.verdict.open);
    expect(verdicts.map((v) => !v.verdict.open && v.verdict.reason)).toEqual([
      "ZfsUnhealthy",
      "NodesOffline",
    ]);
  });
});
