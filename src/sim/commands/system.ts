import { statPath } from "../exec/fs.js";
import { kernelHost } from "../exec/place.js";
import { PVE_MANAGER_HASHES } from "../model/defaults.js";
import { bootKernel, compareKernels, installedKernels } from "../model/kernels.js";
import type { HostState } from "../model/state.js";
import type { Sim } from "../world.js";
import { anywhere, onHost, onPve, registerCommands } from "./registry.js";
import { alignTable } from "./table.js";
import type { CommandContext } from "./types.js";

/** Root file system usage, with the diskFull fault applied. */
export function rootUsage(sim: Sim, host: HostState): { size: number; used: number; avail: number } {
  const size = host.rootDisk.sizeBytes;
  const full = sim.faults.find("diskFull", (f) => f.host === host.name) !== undefined;
  const used = full ? size : Math.min(size, host.rootDisk.usedBytes);
  return { size, used, avail: size - used };
}

interface Fs {
  source: string;
  fstype: string;
  size: number;
  used: number;
  avail: number;
  target: string;
  inodes: number;
}

function filesystems(sim: Sim, host: HostState, inContainer: boolean): Fs[] {
  const root = rootUsage(sim, host);
  const rootSource = inContainer
    ? "rpool/data/subvol-ct-disk-0"
    : host.zfs !== "none"
      ? "rpool/ROOT/pve-1"
      : "/dev/mapper/pve-root";
  const list: Fs[] = [
    {
      source: "udev",
      fstype: "devtmpfs",
      size: 8 * 1024 ** 3,
      used: 0,
      avail: 8 * 1024 ** 3,
      target: "/dev",
      inodes: 2_000_000,
    },
    {
      source: "tmpfs",
      fstype: "tmpfs",
      size: 1.6 * 1024 ** 3,
      used: 2_400_256,
      avail: 1.6 * 1024 ** 3 - 2_400_256,
      target: "/run",
      inodes: 2_000_000,
    },
    {
      source: rootSource,
      fstype: host.zfs !== "none" && !inContainer ? "zfs" : "ext4",
      size: root.size,
      used: root.used,
      avail: root.avail,
      target: "/",
      inodes: 6_553_600,
    },
  ];
  if (host.kind === "pve" && !inContainer)
    list.push({
      source: "/dev/fuse",
      fstype: "fuse",
      size: 128 * 1024 ** 2,
      used: 32_768,
      avail: 128 * 1024 ** 2 - 32_768,
      target: "/etc/pve",
      inodes: 262_144,
    });
  return list;
}

function pct(used: number, avail: number): string {
  const total = used + avail;
  if (total <= 0) return "-";
  return `${Math.ceil((used * 100) / total)}%`;
}

const OUTPUT_FIELDS = [
  "source",
  "fstype",
  "itotal",
  "iused",
  "iavail",
  "ipcent",
  "size",
  "used",
  "avail",
  "pcent",
  "file",
  "target",
] as const;
type OutputField = (typeof OUTPUT_FIELDS)[number];

/** `df`, including the forms `df -P -B1 /` and `df -B1 --output=source,size,used,avail,pcent,target /`. */
function df(ctx: CommandContext): number {
  const host = kernelHost(ctx.place);
  let posix = false;
  let block = 1024;
  let output: OutputField[] | undefined;
  let human = false;
  const paths: string[] = [];
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-P" || a === "--portability") posix = true;
    else if (a === "-h" || a === "--human-readable") human = true;
    else if (a === "-k") block = 1024;
    else if (a === "-B" || a === "--block-size") block = parseBlock(args[++i] ?? "");
    else if (a.startsWith("-B")) block = parseBlock(a.slice(2));
    else if (a.startsWith("--block-size=")) block = parseBlock(a.slice("--block-size=".length));
    else if (a === "--output") output = [...OUTPUT_FIELDS];
    else if (a.startsWith("--output=")) {
      const fields = a.slice("--output=".length).split(",");
      for (const f of fields) {
        if (!(OUTPUT_FIELDS as readonly string[]).includes(f)) {
          ctx.err(`df: option --output: field '${f}' unknown\nTry 'df --help' for more information.\n`);
          return 1;
        }
      }
      output = fields as OutputField[];
    } else if (a === "-T" || a === "-l" || a === "-x" || a === "--local") {
      if (a === "-x") i++;
    } else if (a.startsWith("-") && a !== "-") {
      ctx.err(`df: invalid option -- '${a.slice(1)}'\nTry 'df --help' for more information.\n`);
      return 1;
    } else paths.push(a);
  }
  if (Number.isNaN(block)) {
    ctx.err(`df: invalid block size\n`);
    return 1;
  }
  if (output && posix) {
    ctx.err("df: options -P and --output are mutually exclusive\nTry 'df --help' for more information.\n");
    return 1;
  }
  const all = filesystems(ctx.sim, host, ctx.place.kind === "container");
  let selected: Fs[] = all;
  let status = 0;
  if (paths.length > 0) {
    selected = [];
    for (const p of paths) {
      if (statPath(ctx.sim, ctx.place, p) === undefined) {
        ctx.err(`df: ${p}: No such file or directory\n`);
        status = 1;
        continue;
      }
      const norm = p.startsWith("/") ? p : `/root/${p}`;
      const fs = [...all]
        .sort((a, b) => b.target.length - a.target.length)
        .find((f) => norm === f.target || norm.startsWith(f.target === "/" ? "/" : `${f.target}/`));
      if (fs) selected.push(fs);
    }
  }
  const num = (n: number): string => (human ? humanSize(n) : String(Math.ceil(n / block)));
  const sizeHeader = human
    ? "Size"
    : posix
      ? `${block}-blocks`
      : block === 1024
        ? "1K-blocks"
        : block === 1
          ? "1B-blocks"
          : `${block}B-blocks`;
  let rows: string[][];
  let right: boolean[];
  if (output) {
    const header: Record<OutputField, string> = {
      source: "Filesystem",
      fstype: "Type",
      itotal: "Inodes",
      iused: "IUsed",
      iavail: "IFree",
      ipcent: "IUse%",
      size: sizeHeader,
      used: "Used",
      avail: "Avail",
      pcent: "Use%",
      file: "File",
      target: "Mounted on",
    };
    rows = [output.map((f) => header[f])];
    for (const [idx, fs] of selected.entries()) {
      const iused = Math.floor(fs.inodes * 0.03);
      rows.push(
        output.map((f) => {
          switch (f) {
            case "source":
              return fs.source;
            case "fstype":
              return fs.fstype;
            case "itotal":
              return String(fs.inodes);
            case "iused":
              return String(iused);
            case "iavail":
              return String(fs.inodes - iused);
            case "ipcent":
              return pct(iused, fs.inodes - iused);
            case "size":
              return num(fs.size);
            case "used":
              return num(fs.used);
            case "avail":
              return num(fs.avail);
            case "pcent":
              return pct(fs.used, fs.avail);
            case "file":
              return paths[idx] ?? "-";
            case "target":
              return fs.target;
          }
        }),
      );
    }
    right = output.map((f) => !["source", "fstype", "file", "target"].includes(f));
  } else {
    rows = [
      [
        "Filesystem",
        sizeHeader,
        "Used",
        human ? "Avail" : "Available",
        posix ? "Capacity" : "Use%",
        "Mounted on",
      ],
    ];
    for (const fs of selected)
      rows.push([fs.source, num(fs.size), num(fs.used), num(fs.avail), pct(fs.used, fs.avail), fs.target]);
    right = [false, true, true, true, true, false];
  }
  if (selected.length > 0 || paths.length === 0) ctx.out(alignTable(rows, right));
  return status;
}

function parseBlock(s: string): number {
  const m = /^(\d*)([KMGT]?)(i?B?)$/.exec(s);
  if (!m || (m[1] === "" && m[2] === "")) return Number.NaN;
  const n = m[1] === "" ? 1 : Number(m[1]);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!] ?? 1;
  return n * unit;
}

function humanSize(n: number): string {
  const units = ["", "K", "M", "G", "T"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? String(v) : v < 10 ? `${Math.ceil(v * 10) / 10}${units[u]}` : `${Math.ceil(v)}${units[u]}`;
}

/** `zpool status -x`: one line when healthy, the full status of unhealthy pools otherwise. */
function zpool(ctx: CommandContext): number {
  const host = kernelHost(ctx.place);
  const [sub, ...rest] = ctx.argv.slice(1);
  if (sub !== "status" && sub !== "list") {
    ctx.err(`unrecognized command '${sub ?? ""}'\nusage: zpool command args ...\n`);
    return 2;
  }
  if (host.zfs === "none") {
    // zpool prints this on stderr, with exit 0.
    ctx.err("no pools available\n");
    return 0;
  }
  if (sub === "list") {
    ctx.out(
      `NAME    SIZE  ALLOC   FREE  CKPOINT  EXPANDSZ   FRAG    CAP  DEDUP    HEALTH  ALTROOT\nrpool   ${Math.round(host.rootDisk.sizeBytes / 1024 ** 3)}G  ${Math.round(host.rootDisk.usedBytes / 1024 ** 3)}G  ${Math.round((host.rootDisk.sizeBytes - host.rootDisk.usedBytes) / 1024 ** 3)}G        -         -     3%    12%  1.00x    ${host.zfs === "healthy" ? "ONLINE" : "DEGRADED"}  -\n`,
    );
    return 0;
  }
  const onlyUnhealthy = rest.includes("-x");
  if (host.zfs === "healthy" && onlyUnhealthy) {
    ctx.out("all pools are healthy\n");
    return 0;
  }
  const degraded = host.zfs === "degraded";
  let text = "  pool: rpool\n";
  text += ` state: ${degraded ? "DEGRADED" : "ONLINE"}\n`;
  if (degraded) {
    text +=
      "status: One or more devices could not be used because the label is missing or\n\tinvalid.  Sufficient replicas exist for the pool to continue\n\tfunctioning in a degraded state.\naction: Replace the device using 'zpool replace'.\n   see: https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-4J\n";
  }
  text += "  scan: scrub repaired 0B in 00:01:02 with 0 errors on Sun Jan 12 00:25:03 2025\nconfig:\n\n";
  text += "\tNAME                                    STATE     READ WRITE CKSUM\n";
  text += `\trpool                                   ${degraded ? "DEGRADED" : "ONLINE  "}     0     0     0\n`;
  text += `\t  mirror-0                              ${degraded ? "DEGRADED" : "ONLINE  "}     0     0     0\n`;
  text += "\t    ata-SAMSUNG_MZ7L3480HCHQ-00A07_S1-part3  ONLINE       0     0     0\n";
  text += `\t    ata-SAMSUNG_MZ7L3480HCHQ-00A07_S2-part3  ${degraded ? "UNAVAIL " : "ONLINE  "}     0     0     0\n`;
  text += "\nerrors: No known data errors\n";
  ctx.out(text);
  return 0;
}

export function pveManagerVersion(host: HostState): string {
  return host.apt.installed["pve-manager"]?.version ?? "8.4.1";
}

export function pveManagerHash(version: string): string {
  const known = PVE_MANAGER_HASHES[version];
  if (known) return known;
  let h = 0x12345678;
  let out = "";
  for (let r = 0; r < 2; r++) {
    for (const c of `${version}/${r}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out;
}

/** `pveversion`: `pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)`; `-v` lists packages. */
function pveversion(ctx: CommandContext): number {
  const host = kernelHost(ctx.place);
  const ver = pveManagerVersion(host);
  const args = ctx.argv.slice(1);
  if (args.includes("-v") || args.includes("--verbose")) {
    const inst = host.apt.installed;
    const lines: string[] = [];
    lines.push(
      `proxmox-ve: ${inst["proxmox-ve"]?.version ?? "not correctly installed"} (running kernel: ${host.kernelRunning})`,
    );
    lines.push(`pve-manager: ${ver} (running version: ${ver}/${pveManagerHash(ver)})`);
    for (const name of Object.keys(inst).sort()) {
      if (name === "proxmox-ve" || name === "pve-manager") continue;
      if (
        /^(proxmox|pve|libpve|qemu-server|corosync|zfsutils|lxc|ceph|libproxmox|spiceterm|vncterm|novnc|smartmontools|ifupdown2|ksm)/.test(
          name,
        )
      )
        lines.push(`${name}: ${inst[name]!.version}`);
    }
    ctx.out(`${lines.join("\n")}\n`);
    return 0;
  }
  if (args.length > 0) {
    ctx.err(`Unknown option: ${args[0]!.replace(/^-+/, "")}\nUSAGE: pveversion [--verbose]\n`);
    return 255;
  }
  ctx.out(`pve-manager/${ver}/${pveManagerHash(ver)} (running kernel: ${host.kernelRunning})\n`);
  return 0;
}

/** `proxmox-boot-tool kernel list|pin|unpin`, `status`, `refresh`. */
function proxmoxBootTool(ctx: CommandContext): number {
  const host = kernelHost(ctx.place);
  const [sub, action, ...rest] = ctx.argv.slice(1);
  if (sub === "kernel" && action === "list") {
    const kernels = installedKernels(host.apt).sort(compareKernels);
    let text = "Manually selected kernels:\nNone.\n\nAutomatically selected kernels:\n";
    text += kernels.length > 0 ? `${kernels.join("\n")}\n` : "None.\n";
    if (host.kernelPinned && kernels.includes(host.kernelPinned))
      text += `\nPinned kernel:\n${host.kernelPinned}\n`;
    ctx.out(text);
    return 0;
  }
  if (sub === "kernel" && action === "pin") {
    const k = rest.find((a) => !a.startsWith("--"));
    if (!k) {
      ctx.err(
        "E: <kernel-version> is mandatory\n\nUSAGE: proxmox-boot-tool kernel pin <kernel-version> [--next-boot]\n",
      );
      return 1;
    }
    if (!installedKernels(host.apt).includes(k)) {
      ctx.err(`E: no kernel image found in /boot for '${k}', not setting default.\n`);
      return 1;
    }
    host.kernelPinned = k;
    ctx.out(`Setting '${k}' as grub default entry and running update-grub.\n`);
    return 0;
  }
  if (sub === "kernel" && action === "unpin") {
    host.kernelPinned = undefined;
    ctx.out("Removing pinned kernel, running update-grub.\n");
    return 0;
  }
  if (sub === "status") {
    ctx.out(
      "Re-executing '/usr/sbin/proxmox-boot-tool' in new private mount namespace..\nSystem currently booted with uefi\n",
    );
    ctx.out(`E3A1-2B4C is configured with: uefi (versions: ${installedKernels(host.apt).join(", ")})\n`);
    return 0;
  }
  if (sub === "refresh") {
    ctx.out(
      `Running hook script 'proxmox-auto-removal'..\nRunning hook script 'zz-proxmox-boot'..\nCopying and configuring kernels on /dev/disk/by-uuid/E3A1-2B4C\n\tCopying kernel and creating boot-entry for ${bootKernel(host)}\n`,
    );
    return 0;
  }
  ctx.err(
    "USAGE: proxmox-boot-tool <commands> [ARGS]\n\n  proxmox-boot-tool kernel <add|remove> <kernel-version>\n  proxmox-boot-tool kernel pin <kernel-version> [--next-boot]\n  proxmox-boot-tool kernel unpin [--next-boot]\n  proxmox-boot-tool kernel list\n  proxmox-boot-tool status [--quiet]\n  proxmox-boot-tool refresh [--hook <name>]\n",
  );
  return 1;
}

registerCommands([
  { name: "df", path: "/usr/bin/df", available: anywhere, handler: df },
  { name: "zpool", path: "/usr/sbin/zpool", available: onHost, handler: zpool },
  { name: "pveversion", path: "/usr/bin/pveversion", available: onPve, handler: pveversion },
  {
    name: "proxmox-boot-tool",
    path: "/usr/sbin/proxmox-boot-tool",
    available: (p) => onHost(p) && p.kind === "host" && "proxmox-kernel-helper" in p.host.apt.installed,
    handler: proxmoxBootTool,
  },
]);
