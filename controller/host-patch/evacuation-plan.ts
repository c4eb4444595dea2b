/**
 * Plans where a node's guests go before its reboot, before anything moves: memory fit with headroom,
 * preference for nodes already patched this cycle (so a guest is not moved twice), spread across
 * targets, and the plan's policy for guests that cannot move. Pure: the caller observes, this decides.
 */

export type GuestType = "qemu" | "lxc";
export type MoveMode = "online" | "restart" | "ha" | "offline";

export interface EvacGuest {
  vmid: number;
  type: GuestType;
  name?: string;
  /** Proxmox status: running, stopped, paused, ... */
  status: string;
  /** Configured memory (maxmem) in bytes: what the guest needs on its target. */
  memoryBytes: number;
  haManaged: boolean;
  template: boolean;
  lock?: string;
  /** Disks on storage that is not shared. */
  localDisks: number;
  /** Host devices or mounts that tie the guest to this node (hostpci0, usb1, bind mounts, ...). */
  localDevices: readonly string[];
  /** CD images on storage that is not shared (`ide2: local:iso/x.iso`): Proxmox refuses to migrate them. */
  localMedia?: readonly LocalMedium[];
  /** Nodes the migration precondition disallows, with Proxmox's reason (a storage they lack, ...). */
  notAllowedNodes?: Readonly<Record<string, string>>;
  /** The migration precondition could not be read: the guest is not proven movable. */
  preconditionError?: string;
}

export interface LocalMedium {
  /** The CD drive: ide2, sata0, ... */
  drive: string;
  /** The image in it, as the config names it: local:iso/x.iso */
  volume: string;
}

export interface EvacNode {
  name: string;
  online: boolean;
  /** In HA maintenance or otherwise not to receive guests. */
  maintenance: boolean;
  memTotalBytes: number;
  memUsedBytes: number;
  /** Already patched in this cycle: guests moved there will not have to move again. */
  patched: boolean;
}

export interface EvacOptions {
  mode: "Migrate" | "HAMaintenance" | "Shutdown" | "None";
  headroomPercent: number;
  withLocalDisks: boolean;
  unmovable: "Block" | "Shutdown" | "Skip";
  /** Eject local CD images before the move (re-inserted after the return) instead of refusing. */
  ejectLocalMedia?: boolean;
}

export interface Move {
  vmid: number;
  type: GuestType;
  name?: string;
  to: string;
  mode: MoveMode;
  memoryBytes: number;
  withLocalDisks: boolean;
  /** CD images to eject before the move (evacuation.ejectLocalMedia). */
  ejectMedia?: LocalMedium[];
  /** A container: stopped, moved, started (HA relocates an HA-managed one): downtime, not a live move. */
  restart?: boolean;
}

export interface Stay {
  vmid: number;
  type: GuestType;
  name?: string;
  reason: string;
}

export interface EvacPlan {
  moves: Move[];
  /** Guests shut down before the reboot (mode Shutdown, or unmovable with policy Shutdown). */
  shutdowns: Stay[];
  /** Guests that stay: not running, templates, or unmovable with policy Skip. */
  stays: Stay[];
  /** HA-managed guests that HA moves off the node itself (mode HAMaintenance). */
  viaHa: Stay[];
  /** Set when the policy forbids going on; then nothing may move. */
  blocked?: { reason: "UnmovableGuest" | "InsufficientMemory"; message: string };
}

/** A node's share of memory that may not be used by placements, so it keeps room to breathe. */
function capacity(node: EvacNode, headroomPercent: number): number {
  return node.memTotalBytes * (1 - headroomPercent / 100) - node.memUsedBytes;
}

const GIB = 1024 ** 3;
const gib = (bytes: number): string => `${(bytes / GIB).toFixed(1)} GiB`;
const label = (g: { type: GuestType; vmid: number; name?: string }): string =>
  `${g.type === "qemu" ? "VM" : "CT"} ${g.vmid}${g.name ? ` (${g.name})` : ""}`;

/** Utilization points a not-yet-patched target must be ahead by before it is chosen over a patched one. */
const PATCHED_PREFERENCE = 0.25;

function whyUnmovable(g: EvacGuest, opts: EvacOptions): string | undefined {
  if (g.localDevices.length > 0) return `uses local devices (${g.localDevices.join(", ")})`;
  if (g.lock) return `is locked (${g.lock})`;
  if (g.preconditionError) return `cannot be proven movable: ${g.preconditionError}`;
  const media = g.localMedia ?? [];
  if (media.length > 0 && !opts.ejectLocalMedia)
    return `has a local CD image (${media.map((m) => `${m.drive}: ${m.volume}`).join(", ")}); eject it or set evacuation.ejectLocalMedia`;
  if (g.type === "qemu" && g.localDisks > 0 && !opts.withLocalDisks) {
    return "has local disks and evacuation.withLocalDisks is false";
  }
  return undefined;
}

function moveMode(g: EvacGuest): MoveMode {
  if (g.haManaged) return "ha";
  return g.type === "qemu" ? "online" : "restart";
}

export function planEvacuation(
  source: string,
  guests: readonly EvacGuest[],
  nodes: readonly EvacNode[],
  opts: EvacOptions,
): EvacPlan {
  const plan: EvacPlan = { moves: [], shutdowns: [], stays: [], viaHa: [] };
  const active: EvacGuest[] = [];
  const unmovable: { g: EvacGuest; why: string; memory: boolean }[] = [];
  for (const g of guests) {
    if (opts.mode === "HAMaintenance" && g.haManaged && !g.template && g.status !== "stopped") {
      // HA's own migration meets the same refusals; it cannot eject media for us.
      const why = whyUnmovable(g, { ...opts, withLocalDisks: true, ejectLocalMedia: false });
      if (why) unmovable.push({ g, why, memory: false });
      else
        plan.viaHa.push({
          vmid: g.vmid,
          type: g.type,
          name: g.name,
          reason:
            g.type === "lxc"
              ? "HA moves it (node maintenance); a restart: HA stops the container, moves it, starts it"
              : "HA moves it (node maintenance)",
        });
      continue;
    }
    if (g.template) plan.stays.push({ vmid: g.vmid, type: g.type, name: g.name, reason: "template" });
    else if (g.status !== "running" && g.status !== "paused") {
      plan.stays.push({ vmid: g.vmid, type: g.type, name: g.name, reason: `not running (${g.status})` });
    } else active.push(g);
  }
  if (opts.mode === "None") {
    for (const g of active)
      plan.stays.push({ vmid: g.vmid, type: g.type, name: g.name, reason: "evacuation mode None" });
    return plan;
  }
  if (opts.mode === "Shutdown") {
    for (const g of active)
      plan.shutdowns.push({ vmid: g.vmid, type: g.type, name: g.name, reason: "evacuation mode Shutdown" });
    return plan;
  }

  const targets = nodes.filter((n) => n.name !== source && n.online && !n.maintenance);
  const placed = new Map<string, number>(targets.map((t) => [t.name, 0]));

  // Largest first: the hardest to fit get the most choice.
  const movable = active
    .filter((g) => {
      const why = whyUnmovable(g, opts);
      if (why) unmovable.push({ g, why, memory: false });
      return !why;
    })
    .sort((a, b) => b.memoryBytes - a.memoryBytes || a.vmid - b.vmid);

  for (const g of movable) {
    let best: { node: EvacNode; score: number } | undefined;
    const allowed = targets.filter((t) => g.notAllowedNodes?.[t.name] === undefined);
    for (const t of allowed) {
      const free = capacity(t, opts.headroomPercent) - (placed.get(t.name) ?? 0);
      if (free < g.memoryBytes) continue;
      const after = (t.memUsedBytes + (placed.get(t.name) ?? 0) + g.memoryBytes) / t.memTotalBytes;
      const score = after + (t.patched ? 0 : PATCHED_PREFERENCE);
      if (!best || score < best.score || (score === best.score && t.name < best.node.name))
        best = { node: t, score };
    }
    if (!best) {
      unmovable.push(noTarget(g, targets, allowed, placed, opts.headroomPercent));
      continue;
    }
    placed.set(best.node.name, (placed.get(best.node.name) ?? 0) + g.memoryBytes);
    plan.moves.push({
      vmid: g.vmid,
      type: g.type,
      name: g.name,
      to: best.node.name,
      mode: moveMode(g),
      memoryBytes: g.memoryBytes,
      withLocalDisks: g.type === "qemu" && g.localDisks > 0,
      ...(g.type === "lxc" ? { restart: true } : {}),
      ...(opts.ejectLocalMedia && g.localMedia?.length
        ? { ejectMedia: g.localMedia.map((m) => ({ ...m })) }
        : {}),
    });
  }
  const byVmid = new Map(movable.map((g) => [g.vmid, g]));
  spread(
    plan.moves,
    targets,
    placed,
    opts.headroomPercent,
    (m, t) => byVmid.get(m.vmid)?.notAllowedNodes?.[t] === undefined,
  );

  if (unmovable.length > 0) {
    const list = unmovable.map((u) => `${label(u.g)} ${u.why}`).join("; ");
    if (opts.unmovable === "Block") {
      const memoryOnly = unmovable.every((u) => u.memory);
      return {
        moves: [],
        shutdowns: [],
        stays: plan.stays,
        viaHa: [],
        blocked: {
          reason: memoryOnly ? "InsufficientMemory" : "UnmovableGuest",
          message: `cannot evacuate ${source}: ${list}. Nothing was moved (evacuation.unmovable is Block)`,
        },
      };
    }
    for (const u of unmovable) {
      const stay = { vmid: u.g.vmid, type: u.g.type, name: u.g.name, reason: u.why };
      if (opts.unmovable === "Shutdown") plan.shutdowns.push(stay);
      else plan.stays.push(stay);
    }
  }
  return plan;
}

/** Why no target fits: no other node, the precondition disallows them, or none has the memory. */
function noTarget(
  g: EvacGuest,
  targets: readonly EvacNode[],
  allowed: readonly EvacNode[],
  placed: ReadonlyMap<string, number>,
  headroom: number,
): { g: EvacGuest; why: string; memory: boolean } {
  if (targets.length === 0) return { g, memory: true, why: "there is no other online node to move it to" };
  const disallowed = targets
    .filter((t) => !allowed.includes(t))
    .map((t) => `${t.name}: ${g.notAllowedNodes?.[t.name] ?? ""}`);
  if (allowed.length === 0)
    return { g, memory: false, why: `Proxmox allows no other node (${disallowed.join("; ")})` };
  const most = Math.max(0, ...allowed.map((t) => capacity(t, headroom) - (placed.get(t.name) ?? 0)));
  const also = disallowed.length > 0 ? `; Proxmox disallows ${disallowed.join("; ")}` : "";
  return {
    g,
    memory: disallowed.length === 0,
    why: `needs ${gib(g.memoryBytes)} but the most any other node has free beyond the ${headroom}% headroom is ${gib(most)}${also}`,
  };
}

/**
 * Never everything onto one node: when every move landed on one target while another could take
 * some of them, the smallest guests that fit elsewhere are moved to the least used other target.
 */
function spread(
  moves: Move[],
  targets: readonly EvacNode[],
  placed: Map<string, number>,
  headroom: number,
  allowed: (m: Move, target: string) => boolean,
): void {
  if (moves.length < 2 || targets.length < 2) return;
  const first = moves[0]?.to;
  if (!moves.every((m) => m.to === first)) return;
  const bySize = [...moves].sort((a, b) => a.memoryBytes - b.memoryBytes);
  for (const m of bySize) {
    const others = targets
      .filter(
        (t) =>
          t.name !== first &&
          allowed(m, t.name) &&
          capacity(t, headroom) - (placed.get(t.name) ?? 0) >= m.memoryBytes,
      )
      .sort(
        (a, b) =>
          (a.memUsedBytes + (placed.get(a.name) ?? 0)) / a.memTotalBytes -
          (b.memUsedBytes + (placed.get(b.name) ?? 0)) / b.memTotalBytes,
      );
    const to = others[0];
    if (!to || first === undefined) continue;
    placed.set(first, (placed.get(first) ?? 0) - m.memoryBytes);
    placed.set(to.name, (placed.get(to.name) ?? 0) + m.memoryBytes);
    m.to = to.name;
    return;
  }
}

/** The other nodes as targets, from the cluster's resources and the HA manager's node states. */
export function evacuationTargets(
  resources: { nodes: readonly { node: string; status?: string; maxmem?: number; mem?: number }[] },
  haNodeStatus: Readonly<Record<string, string>>,
  patched: readonly string[],
): EvacNode[] {
  return resources.nodes.map((n) => ({
    name: n.node,
    online: n.status === "online",
    maintenance: haNodeStatus[n.node] === "maintenance",
    memTotalBytes: n.maxmem ?? 0,
    memUsedBytes: n.mem ?? 0,
    patched: patched.includes(n.node),
  }));
}
