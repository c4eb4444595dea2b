import { kernelHost } from "../exec/place.js";
import type { HostState } from "../model/state.js";
import { inContainer, onHost, registerCommands } from "./registry.js";
import { ctime } from "./time-format.js";
import type { CommandContext } from "./types.js";

/**
 * `dmesg` (util-linux 2.38): the kernel ring buffer since the current boot — the boot messages of
 * a PVE kernel, then the bridge/tap lines of each guest started since. Timestamps are seconds since
 * boot (`[    0.000000]`), `-T` prints ctime, `-t` none, `-l`/`--level` filters by priority.
 * Inside an (unprivileged) container the buffer is not readable, as with kernel.dmesg_restrict.
 * The text is plausible, not captured: hardware lines name a generic server.
 */

const LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"] as const;
type Level = (typeof LEVELS)[number];

interface Line {
  at: number;
  level: Level;
  text: string;
}

function bootLines(host: HostState): Line[] {
  const rel = host.kernelRunning;
  const pkg = rel.replace(/-pve$/, "");
  const kib = Math.floor(host.memoryBytes / 1024);
  const pve = rel.endsWith("-pve");
  const version = pve
    ? `Linux version ${rel} (build@proxmox) (gcc (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC PMX ${pkg} (2025-03-16T19:18Z) ()`
    : `Linux version ${rel} (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian ${pkg} (2025-02-01)`;
  const l = (at: number, text: string, level: Level = "info"): Line => ({ at, level, text });
  const out: Line[] = [
    l(0, version, "notice"),
    l(0, `Command line: BOOT_IMAGE=/boot/vmlinuz-${rel} root=/dev/mapper/pve-root ro quiet`),
    l(0, "KERNEL supported cpus:"),
    l(0, "  Intel GenuineIntel"),
    l(0, "  AMD AuthenticAMD"),
    l(0, "BIOS-provided physical RAM map:"),
    l(0, "DMI: Supermicro SYS-1029P-WTR/X11DDW-L, BIOS 3.8a 10/18/2023"),
    l(0, "tsc: Detected 2400.000 MHz processor"),
    l(
      0.0812,
      `Memory: ${kib - 1_800_000}K/${kib}K available (20480K kernel code, 3689K rwdata, 13940K rodata, 4772K init, 5404K bss, 1800000K reserved, 0K cma-reserved)`,
    ),
    l(0.1203, `smpboot: Allowing ${host.cpus} CPUs, 0 hotplug CPUs`),
    l(0.3517, `smp: Brought up 1 node, ${host.cpus} CPUs`),
    l(0.9921, "ACPI: Interpreter enabled"),
    l(1.5112, "Run /init as init process"),
    l(2.0418, "ZFS: Loaded module v2.2.7-pve2, ZFS pool version 5000, ZFS filesystem version 5", "notice"),
    l(3.1024, "EXT4-fs (dm-1): mounted filesystem with ordered data mode. Quota mode: none."),
    l(
      3.412,
      `systemd[1]: systemd 252.36-1~deb12u1 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)`,
    ),
    l(3.4139, `systemd[1]: Hostname set to <${host.name}>.`),
    l(4.7711, "igb 0000:01:00.0 eno1: renamed from eth0"),
    l(5.9036, "vmbr0: port 1(eno1) entered blocking state"),
    l(5.9037, "vmbr0: port 1(eno1) entered disabled state"),
    l(8.2207, "igb 0000:01:00.0 eno1: igb: eno1 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX"),
    l(8.2231, "vmbr0: port 1(eno1) entered forwarding state"),
  ];
  if (pve) {
    out.push(l(9.612, "softdog: initialized. soft_noboot=0 soft_margin=60 sec soft_panic=0 (nowayout=0)"));
    out.push(l(9.8833, "bpfilter: Loaded bpfilter_umh pid 1342"));
    out.push(l(10.0417, "NFSD: Unable to initialize client recovery tracking! (-110)", "warn"));
  }
  return out;
}

function guestLines(ctx: CommandContext, host: HostState): Line[] {
  const out: Line[] = [];
  const ports = new Map<string, number>();
  let port = 2;
  const started = ctx.sim.state.history.guestEvents.filter(
    (e) => e.node === host.name && e.at >= host.bootedAt && e.event === "start",
  );
  // Guests that were already running when the simulation began started with the boot.
  const early = ctx.sim
    .guestsOn(host.name)
    .filter((g) => g.status === "running" && !started.some((e) => e.vmid === g.vmid))
    .map((g, i) => ({ vmid: g.vmid, at: host.bootedAt + 14_000 + i * 1_300 }));
  for (const e of [...early, ...started]) {
    const g = ctx.sim.state.guests[String(e.vmid)];
    const dev = g?.type === "lxc" ? `veth${e.vmid}i0` : `tap${e.vmid}i0`;
    const at = (e.at - host.bootedAt) / 1000;
    const p = ports.get(dev) ?? port++;
    ports.set(dev, p);
    if (g?.type !== "lxc") out.push({ at, level: "info", text: `${dev}: entered promiscuous mode` });
    out.push({ at: at + 0.0011, level: "info", text: `vmbr0: port ${p}(${dev}) entered blocking state` });
    out.push({ at: at + 0.0012, level: "info", text: `vmbr0: port ${p}(${dev}) entered disabled state` });
    out.push({ at: at + 0.0031, level: "info", text: `vmbr0: port ${p}(${dev}) entered forwarding state` });
  }
  return out;
}

function stamp(at: number): string {
  return `[${at.toFixed(6).padStart(12, " ")}]`;
}

function dmesg(ctx: CommandContext): number {
  if (ctx.place.kind === "container") {
    ctx.err("dmesg: read kernel buffer failed: Operation not permitted\n");
    return 1;
  }
  const host = kernelHost(ctx.place);
  let mode: "rel" | "ctime" | "none" = "rel";
  let levels: Set<string> | undefined;
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-T" || a === "--ctime") mode = "ctime";
    else if (a === "-t" || a === "--notime") mode = "none";
    else if (a === "-l" || a === "--level" || a.startsWith("--level=")) {
      const v = a.startsWith("--level=") ? a.slice(8) : args[++i];
      if (v === undefined) {
        ctx.err(`dmesg: option requires an argument -- 'l'\nTry 'dmesg --help' for more information.\n`);
        return 1;
      }
      levels = new Set(v.split(","));
      for (const lv of levels)
        if (!(LEVELS as readonly string[]).includes(lv)) {
          ctx.err(`dmesg: unknown level '${lv}'\n`);
          return 1;
        }
    } else {
      ctx.err(
        `dmesg: invalid option -- '${a.replace(/^-+/, "")}'\nTry 'dmesg --help' for more information.\n`,
      );
      return 1;
    }
  }
  const lines = [...bootLines(host), ...guestLines(ctx, host)]
    .filter((l) => !levels || levels.has(l.level))
    .sort((a, b) => a.at - b.at);
  let out = "";
  for (const l of lines) {
    if (mode === "none") out += `${l.text}\n`;
    else if (mode === "ctime") out += `[${ctime(host.bootedAt + l.at * 1000)}] ${l.text}\n`;
    else out += `${stamp(l.at)} ${l.text}\n`;
  }
  ctx.out(out);
  return 0;
}

registerCommands([
  { name: "dmesg", path: "/usr/bin/dmesg", available: (p) => onHost(p) || inContainer(p), handler: dmesg },
]);
