import { z } from "zod";
import { faultSpecSchema } from "./faults/schema.js";

/**
 * The simulator's fleet file: what clusters, nodes and guests exist, what is installed and what the
 * repositories offer. Every duration is in sim time (seconds of the injected clock). Unknown fields
 * are errors so a typo never silently falls back to a default.
 */

const hostName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, "must be a host name (letters, digits, '-')");
const version = z
  .string()
  .regex(/^[0-9][A-Za-z0-9.+~:-]*$/, "must be a Debian-style version such as 8.4.1 or 6.8.12-9");
const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "must be a Debian package name");
export const kernelRelease = z
  .string()
  .regex(/^\d+\.\d+\.\d+-\d+-[a-z0-9]+$/, "must be a kernel release such as 6.8.12-9-pve or 6.1.0-31-amd64");

/**
 * A package: `"1.2-3"` (installed, nothing newer known) or an object. `candidate` is already in the
 * host's package lists (shown by `apt-get -s dist-upgrade` right away); `published` is only in the
 * remote repository, so it appears after the next `apt-get update`.
 */
export const packageSpecSchema = z.union([
  version,
  z.strictObject({
    installed: version.optional(),
    candidate: version.optional(),
    published: version.optional(),
    arch: z.enum(["amd64", "all", "arm64"]).default("amd64"),
    origin: z.string().optional(),
    /** Put on hold by the admin (`apt-mark hold`) before the simulator starts. */
    hold: z.boolean().optional(),
    /** The candidate's dependencies; one that no list provides keeps the package back. */
    depends: z.array(packageName).optional(),
  }),
]);
export type PackageSpec = z.infer<typeof packageSpecSchema>;

const packagesSchema = z.record(packageName, packageSpecSchema).default({});

export const timingSchema = z
  .strictObject({
    /** Node down time of a reboot, from the listener closing to SSH accepting again. */
    rebootSeconds: z.number().positive().default(90),
    /** Time a host takes to stop guests and services before it goes down. */
    shutdownSeconds: z.number().nonnegative().default(5),
    aptUpdateSeconds: z.number().nonnegative().default(4),
    /** Per package (download + unpack + configure) in a dist-upgrade. */
    aptPackageSeconds: z.number().nonnegative().default(2),
    /** Live migration copy speed of guest memory. */
    migrationMiBps: z.number().positive().default(1000),
    /** Copy speed of local disks (with-local-disks, restart migration of local rootfs). */
    diskMiBps: z.number().positive().default(250),
    guestStartSeconds: z.number().nonnegative().default(3),
    /** How long a guest's graceful shutdown takes (ACPI powerdown / SIGPWR to the CT's init). */
    guestShutdownSeconds: z.number().nonnegative().default(5),
    /**
     * After a PVE node boots (SSH already accepts), its cluster stack comes up in systemd order:
     * pve-cluster, corosync, pvedaemon/pvestatd/pve-firewall, pveproxy/pvescheduler, pve-ha-crm, and
     * pve-ha-lrm last, this many seconds after boot. Until then `systemctl is-active` says
     * `activating` and the node's LRM is not running.
     */
    servicesStartSeconds: z.number().nonnegative().default(10),
    /**
     * An upgrade of pve-cluster restarts pmxcfs in its postinst (debhelper's restart after upgrade):
     * this long, inside the dpkg run, every PVE CLI on the node fails with `ipcc_send_rec[1] failed:
     * Connection refused`.
     */
    pmxcfsRestartSeconds: z.number().nonnegative().default(2),
    /**
     * An upgrade of corosync restarts it; the daemon is up at once but the node rejoins the
     * membership only after the token and consensus timeouts (corosync.conf(5): 3 s + 3.6 s by
     * default). Meanwhile the node is offline to the others and has no quorum of its own.
     */
    corosyncRejoinSeconds: z.number().nonnegative().default(6),
    /** One HA CRM round: how long maintenance and HA migration requests wait to be picked up. */
    haRoundSeconds: z.number().positive().default(10),
    snapshotSeconds: z.number().nonnegative().default(2),
    vzdumpMiBps: z.number().positive().default(400),
    /** How long a finished `--collect` unit stays visible to `systemctl show` (systemd: at once). */
    unitCollectSeconds: z.number().nonnegative().default(0),
    /** Time one ecosystem package update inside a container takes. */
    guestPackageSeconds: z.number().nonnegative().default(1),
  })
  .prefault({});
export type Timing = z.infer<typeof timingSchema>;

const listenSchema = z
  .strictObject({
    address: z.ipv4().optional(),
    port: z.number().int().min(0).max(65535).default(0),
  })
  .prefault({});

const serviceSchema = z.strictObject({
  state: z.enum(["active", "inactive", "failed"]).default("active"),
  enabled: z.boolean().default(true),
});
const servicesSchema = z
  .record(z.string().regex(/^[A-Za-z0-9@._-]+$/, "must be a unit name"), serviceSchema)
  .default({});

const kernelSchema = z.strictObject({
  running: kernelRelease,
  /** Installed kernels; the running one is added if missing. */
  installed: z.array(kernelRelease).default([]),
  /** A newer kernel already in the package lists (installed by the next dist-upgrade). */
  candidate: kernelRelease.optional(),
  /** A newer kernel only in the remote repository (visible after `apt-get update`). */
  published: kernelRelease.optional(),
  /** `proxmox-boot-tool kernel pin`: boot this one instead of the newest. */
  pinned: kernelRelease.optional(),
});

/** What every simulated Debian host (PVE node or a VM reachable by SSH) declares. */
const hostFields = {
  kernel: kernelSchema,
  packages: packagesSchema,
  memoryGiB: z.number().positive().default(64),
  /** Memory the host itself uses, on top of running guests. */
  hostMemoryGiB: z.number().nonnegative().default(4),
  cpus: z.number().int().positive().default(16),
  rootDisk: z
    .strictObject({
      sizeGiB: z.number().positive().default(100),
      usedGiB: z.number().nonnegative().default(12),
    })
    .prefault({}),
  zfs: z.enum(["healthy", "degraded", "none"]).default("healthy"),
  /**
   * Debian writes /var/run/reboot-required only when a helper such as reboot-notifier or
   * unattended-upgrades is installed; plain PVE does not, so the default is false.
   */
  writesRebootRequired: z.boolean().default(false),
  services: servicesSchema,
  listen: listenSchema,
  rebootSeconds: z.number().positive().optional(),
};

export const nodeSchema = z.strictObject({
  name: hostName,
  /** The node's cluster address, as `/cluster/status` and `pvecm status` show it. */
  ip: z.ipv4().optional(),
  votes: z.number().int().positive().default(1),
  /** Start powered off (it boots only when told to). */
  online: z.boolean().default(true),
  ...hostFields,
});
export type NodeSpec = z.infer<typeof nodeSchema>;

const storageSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_.-]*$/i),
  type: z.enum(["dir", "zfspool", "lvmthin", "lvm", "rbd", "nfs", "cifs", "pbs"]),
  shared: z.boolean().optional(),
  content: z
    .array(z.enum(["images", "rootdir", "backup", "iso", "vztmpl", "snippets"]))
    .default(["images", "rootdir"]),
  /** Whether guests on it can be snapshotted; by default from the type (dir/lvm/nfs/cifs cannot). */
  snapshots: z.boolean().optional(),
  /** storage.cfg `nodes`: the only nodes that have it (by default all). */
  nodes: z.array(hostName).optional(),
});
export type StorageSpec = z.infer<typeof storageSchema>;

const diskSchema = z.strictObject({
  /** Config key (scsi0, virtio1, rootfs, mp0); assigned in order when missing. */
  key: z
    .string()
    .regex(/^(scsi|virtio|sata|ide|efidisk|tpmstate|rootfs|mp)\d*$/)
    .optional(),
  storage: z.string(),
  sizeGiB: z.number().positive(),
  /** Container mount points: `backup=1`, so vzdump includes it (rootfs always is; other mpN are left out). */
  backup: z.boolean().optional(),
});

// Passthrough and host devices, and CD drives (`ide2: local:iso/x.iso,media=cdrom`).
const deviceSchema = z
  .strictObject({
    key: z
      .string()
      .regex(
        /^(?:hostpci|usb|serial|parallel|virtiofs)\d+$|^(?:ide|sata|scsi)\d+$/,
        "must be hostpciN, usbN, serialN, parallelN, virtiofsN, or a CD drive (ideN, sataN, scsiN)",
      ),
    value: z.string(),
  })
  .refine((d) => !/^(?:ide|sata|scsi)\d+$/.test(d.key) || /(?:^|,)media=cdrom(?:,|$)/.test(d.value), {
    message: "an ideN/sataN/scsiN device is a CD drive: its value needs media=cdrom",
  });

const snapshotSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{1,39}$/),
  description: z.string().default(""),
  vmstate: z.boolean().default(false),
  /** Seconds before the simulation start. */
  ageSeconds: z.number().nonnegative().default(86400),
});

const simplePackages = z.record(
  z.string().min(1),
  z.union([version, z.strictObject({ installed: version, candidate: version.optional() })]),
);

const pipSchema = z.strictObject({
  venvs: z
    .record(z.string().startsWith("/"), z.strictObject({ packages: simplePackages.default({}) }))
    .default({}),
});
const npmSchema = z.strictObject({
  dirs: z
    .record(z.string().startsWith("/"), z.strictObject({ packages: simplePackages.default({}) }))
    .default({}),
});
const composeSchema = z.strictObject({
  stacks: z
    .record(
      z.string().startsWith("/"),
      z.strictObject({
        project: z.string().optional(),
        services: z.record(
          z.string().min(1),
          z.strictObject({
            image: z.string().regex(/^[^\s:]+:[^\s:]+$/, "must be image:tag"),
            digest: z.string().optional(),
            candidateDigest: z.string().optional(),
          }),
        ),
      }),
    )
    .default({}),
});
const osPackagesSchema = z.strictObject({ packages: packagesSchema });

const healthSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(["http", "tcp"]),
  /** Loopback port; 0 picks a free one at start (reported by the handle). */
  port: z.number().int().min(0).max(65535).default(0),
  path: z.string().startsWith("/").default("/"),
  /** Services that must be active for the endpoint to answer healthy. */
  services: z.array(z.string()).default([]),
});
export type HealthSpec = z.infer<typeof healthSchema>;

export const containerSchema = z.strictObject({
  /** false: a privileged container (its config has no `unprivileged: 1`, pve-container's default 0). */
  unprivileged: z.boolean().default(true),
  ostype: z
    .enum(["debian", "ubuntu", "alpine", "fedora", "centos", "rockylinux", "archlinux", "opensuse"])
    .default("debian"),
  ecosystems: z
    .strictObject({
      apt: osPackagesSchema.optional(),
      dnf: osPackagesSchema.optional(),
      apk: osPackagesSchema.optional(),
      pacman: osPackagesSchema.optional(),
      pip: pipSchema.optional(),
      npm: npmSchema.optional(),
      compose: composeSchema.optional(),
    })
    .prefault({}),
  services: servicesSchema,
  health: z.array(healthSchema).default([]),
});
export type ContainerSpec = z.infer<typeof containerSchema>;

const pbsTaskSchema = z.strictObject({
  workerType: z.string().min(1),
  workerId: z.string().optional(),
  user: z.string().default("root@pam"),
  /** Sim seconds the task keeps running from the start of the simulation; omitted = already finished. */
  runsForSeconds: z.number().positive().optional(),
  status: z.string().default("OK"),
});

export const pbsSchema = z.strictObject({
  version: version.default("3.4.1"),
  datastores: z.array(z.string()).default(["store1"]),
  tasks: z.array(pbsTaskSchema).default([]),
});

/** A VM that is itself a Debian host reachable over SSH (a PBS VM, or any Debian server). */
const guestHostSchema = z
  .strictObject({
    /** SSH host name; defaults to the guest's name. */
    name: hostName.optional(),
    ...hostFields,
  })
  .partial({ kernel: true });

export const guestSchema = z
  .strictObject({
    vmid: z.number().int().min(100).max(999999999),
    type: z.enum(["qemu", "lxc"]),
    name: hostName,
    node: hostName,
    memoryMiB: z.number().int().positive().default(1024),
    cores: z.number().int().positive().default(1),
    status: z.enum(["running", "stopped"]).default("running"),
    tags: z.array(z.string().regex(/^[a-z0-9_+.-]+$/i)).default([]),
    pool: z.string().optional(),
    ha: z
      .union([
        z.boolean(),
        z.strictObject({
          state: z.enum(["started", "stopped", "ignored", "disabled"]).default("started"),
          group: z.string().optional(),
        }),
      ])
      .default(false),
    onboot: z.boolean().default(false),
    /** Seconds this guest's graceful shutdown takes; default timing.guestShutdownSeconds. */
    shutdownSeconds: z.number().nonnegative().optional(),
    lock: z
      .enum([
        "backup",
        "clone",
        "create",
        "migrate",
        "rollback",
        "snapshot",
        "snapshot-delete",
        "suspended",
        "suspending",
        "mounted",
        "disk",
      ])
      .optional(),
    template: z.boolean().default(false),
    disks: z.array(diskSchema).default([]),
    devices: z.array(deviceSchema).default([]),
    snapshots: z.array(snapshotSpecSchema).default([]),
    container: containerSchema.optional(),
    host: guestHostSchema.optional(),
    pbs: pbsSchema.optional(),
  })
  .superRefine((g, ctx) => {
    if (g.type === "lxc" && (g.host || g.pbs))
      ctx.addIssue({
        code: "custom",
        path: [g.host ? "host" : "pbs"],
        message: "only qemu guests can be SSH hosts or PBS",
      });
    if (g.type === "qemu" && g.container)
      ctx.addIssue({
        code: "custom",
        path: ["container"],
        message: "only lxc guests have container contents",
      });
    if (g.type === "lxc" && g.devices.some((d) => d.key.startsWith("hostpci")))
      ctx.addIssue({
        code: "custom",
        path: ["devices"],
        message: "containers cannot pass through PCI devices",
      });
  });
export type GuestSpec = z.infer<typeof guestSchema>;

/**
 * A hyper-converged Ceph cluster (src/sim/model/ceph.ts): monitors and OSDs on every node, size-3
 * pools. A node that goes down takes its OSDs with it; when it returns, its PGs recover for
 * `recoverySeconds` of sim time before HEALTH_OK.
 */
const cephSchema = z.strictObject({
  osdsPerNode: z.number().int().min(1).max(24).default(2),
  pgs: z.number().int().positive().default(128),
  objects: z.number().int().min(0).default(12000),
  recoverySeconds: z.number().min(0).default(60),
  /** mon_osd_down_out_interval: a down OSD without noout is marked out after this (Ceph: 600 s). */
  downOutSeconds: z.number().min(0).default(600),
  /** Re-replicating a whole out node's data elsewhere (and moving it back later) takes this long. */
  rebalanceSeconds: z.number().min(0).default(480),
  /** Cluster-wide OSD flags already set (`noout`, `noscrub`, ...). */
  flags: z.array(z.string().regex(/^[a-z_]+$/)).default([]),
  /** Health checks the cluster raises besides those the model derives (a pre-existing warning). */
  checks: z
    .array(
      z.strictObject({
        code: z.string().regex(/^[A-Z][A-Z0-9_]+$/),
        severity: z.enum(["HEALTH_WARN", "HEALTH_ERR"]).default("HEALTH_WARN"),
        summary: z.string().min(1),
        detail: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});
export type CephSpec = z.infer<typeof cephSchema>;

export const clusterSchema = z.strictObject({
  name: hostName,
  /** A single node without corosync: no cluster row, `pvecm status` fails. */
  standalone: z.boolean().default(false),
  storages: z.array(storageSchema).default([
    { name: "local", type: "dir", content: ["iso", "vztmpl", "backup"] },
    { name: "local-zfs", type: "zfspool", content: ["images", "rootdir"] },
  ]),
  pools: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/)).default([]),
  nodes: z.array(nodeSchema).min(1),
  guests: z.array(guestSchema).default([]),
  /** Ceph runs on the cluster's nodes (`/etc/pve/ceph.conf`, `ceph` CLI). */
  ceph: cephSchema.optional(),

  /**
   * corosync.conf `quorum { two_node: 1 }`: quorum is 1 while at most two nodes are members, and
   * `wait_for_all` follows it (votequorum(5)). Corosync refuses it together with a QDevice.
   */
  twoNode: z.boolean().default(false),
  /**
   * datacenter.cfg `max_workers`: how many workers each node's HA LRM (and stopall/migrateall) runs
   * at once; unset, the LRM uses 4 (PVE::HA::Env::PVE2::get_max_workers). `pvesh get /cluster/options`.
   */
  maxWorkers: z.number().int().min(1).max(64).optional(),
  /**
   * A QDevice (corosync-qdevice on each node, corosync-qnetd elsewhere). `votes` defaults as
   * `pvecm qdevice setup` sets it: 1 for an even node count, N-1 for an odd one (pve-docs pvecm.adoc).
   * `alive: false` is a qnetd host that cannot be reached: the QDevice casts no vote.
   */
  qdevice: z
    .strictObject({
      votes: z.number().int().positive().optional(),
      alive: z.boolean().default(true),
    })
    .optional(),
});
export type ClusterSpec = z.infer<typeof clusterSchema>;

export const fleetSchema = z
  .strictObject({
    timing: timingSchema,
    clusters: z.array(clusterSchema).min(1),
    faults: z.array(faultSpecSchema).default([]),
  })
  .superRefine((fleet, ctx) => {
    const vmids = new Map<number, string>();
    const hosts = new Map<string, string>();
    fleet.clusters.forEach((c, ci) => {
      if (c.standalone && c.nodes.length > 1)
        ctx.addIssue({
          code: "custom",
          path: ["clusters", ci, "standalone"],
          message: "a standalone cluster has exactly one node",
        });
      if (c.twoNode && c.qdevice)
        ctx.addIssue({
          code: "custom",
          path: ["clusters", ci, "twoNode"],
          message: "configuration error: two_node and quorum device cannot be configured at the same time!",
        });
      const storages = new Set(c.storages.map((s) => s.name));
      c.nodes.forEach((n, ni) => {
        const where = `clusters[${ci}].nodes[${ni}]`;
        const prev = hosts.get(n.name);
        if (prev)
          ctx.addIssue({
            code: "custom",
            path: ["clusters", ci, "nodes", ni, "name"],
            message: `host name '${n.name}' is also used by ${prev}`,
          });
        hosts.set(n.name, where);
      });
      const nodeNames = new Set(c.nodes.map((n) => n.name));
      c.guests.forEach((g, gi) => {
        const path = ["clusters", ci, "guests", gi];
        const prev = vmids.get(g.vmid);
        if (prev)
          ctx.addIssue({
            code: "custom",
            path: [...path, "vmid"],
            message: `vmid ${g.vmid} is also used by ${prev}`,
          });
        vmids.set(g.vmid, `clusters[${ci}].guests[${gi}]`);
        if (!nodeNames.has(g.node))
          ctx.addIssue({
            code: "custom",
            path: [...path, "node"],
            message: `no node '${g.node}' in cluster '${c.name}' (nodes: ${[...nodeNames].join(", ")})`,
          });
        g.disks.forEach((d, di) => {
          if (!storages.has(d.storage))
            ctx.addIssue({
              code: "custom",
              path: [...path, "disks", di, "storage"],
              message: `no storage '${d.storage}' in cluster '${c.name}'`,
            });
        });
        if (g.host || g.pbs) {
          const hn = g.host?.name ?? g.name;
          const prevHost = hosts.get(hn);
          if (prevHost)
            ctx.addIssue({
              code: "custom",
              path: [...path, "name"],
              message: `host name '${hn}' is also used by ${prevHost}`,
            });
          hosts.set(hn, `clusters[${ci}].guests[${gi}]`);
        }
        if (g.ha !== false && c.standalone)
          ctx.addIssue({
            code: "custom",
            path: [...path, "ha"],
            message: "HA needs a cluster (this one is standalone)",
          });
      });
    });
  });

/** What a fleet file may contain (defaults not yet applied). */
export type FleetInput = z.input<typeof fleetSchema>;
/** A validated fleet with every default filled in. */
export type Fleet = z.output<typeof fleetSchema>;
