import { compareDebianVersions, newestVersion } from "./debian-version.js";
import { unparseable, type ParseContext } from "./errors.js";

export const UNAME_R_ARGV = ["uname", "-r"] as const;
export const BOOT_TOOL_KERNEL_LIST_ARGV = ["proxmox-boot-tool", "kernel", "list"] as const;

const KERNEL = /^[A-Za-z0-9][A-Za-z0-9.+~_-]*$/;

/** Parses `uname -r`: one kernel release, e.g. `6.8.12-9-pve`. */
export function parseUnameRelease(text: string, ctx?: ParseContext): string {
  const release = text.trim();
  if (!KERNEL.test(release)) unparseable(ctx, UNAME_R_ARGV.join(" "), text, "expected one kernel release");
  return release;
}

export interface BootKernelList {
  readonly manual: readonly string[];
  readonly automatic: readonly string[];
  readonly pinned: string | undefined;
  readonly nextBoot: string | undefined;
}

const SECTIONS: Record<string, keyof BootKernelList> = {
  "manually selected kernels:": "manual",
  "automatically selected kernels:": "automatic",
  "pinned kernel:": "pinned",
  "kernel pinned on next-boot:": "nextBoot",
};

/**
 * Parses `proxmox-boot-tool kernel list`:
 *
 *     Manually selected kernels:
 *     None.
 *
 *     Automatically selected kernels:
 *     6.8.12-9-pve
 *     6.8.12-10-pve
 *
 *     Pinned kernel:
 *     6.8.12-9-pve
 *
 *     Kernel pinned on next-boot:
 *     6.8.12-10-pve
 *
 * `None.` entries are skipped; unknown headings end the current section (a future format's extra
 * section is ignored rather than misread). Without a Manually/Automatically heading the output is
 * not a kernel list.
 */
export function parseBootKernelList(text: string, ctx?: ParseContext): BootKernelList {
  const manual: string[] = [];
  const automatic: string[] = [];
  let pinned: string | undefined;
  let nextBoot: string | undefined;
  let section: keyof BootKernelList | undefined;
  let recognised = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    const heading = SECTIONS[line.toLowerCase()];
    if (heading !== undefined) {
      section = heading;
      if (heading === "manual" || heading === "automatic") recognised = true;
      continue;
    }
    if (line.endsWith(":")) {
      section = undefined;
      continue;
    }
    if (/^none\.?$/i.test(line) || section === undefined) continue;
    if (!KERNEL.test(line))
      unparseable(ctx, BOOT_TOOL_KERNEL_LIST_ARGV.join(" "), text, `"${line}" is not a kernel version`);
    if (section === "manual") manual.push(line);
    else if (section === "automatic") automatic.push(line);
    else if (section === "pinned") pinned ??= line;
    else nextBoot ??= line;
  }
  if (!recognised)
    unparseable(
      ctx,
      BOOT_TOOL_KERNEL_LIST_ARGV.join(" "),
      text,
      "no 'Automatically selected kernels:' section",
    );
  return { manual, automatic, pinned, nextBoot };
}

/**
 * The kernel the node boots next: the next-boot pin, else the permanent pin, else the newest of the
 * selected kernels (manual and automatic together: the boot loader sorts every synced kernel by
 * version, so a manually kept older kernel does not become the default).
 */
export function expectedBootKernel(list: BootKernelList): string | undefined {
  return list.nextBoot ?? list.pinned ?? newestVersion([...list.manual, ...list.automatic]);
}

/** The newest kernel the list knows of, pinned or not. */
export function newestKernel(list: BootKernelList): string | undefined {
  return newestVersion([
    ...list.manual,
    ...list.automatic,
    ...(list.pinned ? [list.pinned] : []),
    ...(list.nextBoot ? [list.nextBoot] : []),
  ]);
}

export interface RebootFlag {
  /** /var/run/reboot-required exists. */
  readonly required: boolean;
  /** Packages listed in /var/run/reboot-required.pkgs (empty when the file is absent). */
  readonly packages: readonly string[];
}

export interface RebootAssessment {
  readonly needed: boolean;
  /** Human-readable reasons, empty when no reboot is needed. */
  readonly reasons: readonly string[];
  readonly runningKernel: string;
  readonly bootKernel: string | undefined;
}

/**
 * Reboot needed when the running kernel is not the one the node would boot, or the reboot-required
 * flag is set. On plain Debian (and so PVE) the flag is only written when a helper package is
 * installed, which is why the kernel comparison comes first.
 */
export function assessReboot(
  runningKernel: string,
  kernels: BootKernelList,
  flag: RebootFlag,
): RebootAssessment {
  const reasons: string[] = [];
  const bootKernel = expectedBootKernel(kernels);
  if (bootKernel !== undefined && bootKernel !== runningKernel) {
    const relation = compareDebianVersions(bootKernel, runningKernel) > 0 ? "newer" : "different";
    reasons.push(`running kernel ${runningKernel}, the node would boot ${relation} kernel ${bootKernel}`);
  }
  if (flag.required) {
    reasons.push(
      flag.packages.length > 0
        ? `/var/run/reboot-required is set (by ${flag.packages.join(", ")})`
        : "/var/run/reboot-required is set",
    );
  }
  return { needed: reasons.length > 0, reasons, runningKernel, bootKernel };
}
