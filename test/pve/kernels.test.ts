import { describe, expect, it } from "vitest";
import { parseBootId } from "../../src/pve/boot-id.js";
import {
  assessReboot,
  expectedBootKernel,
  newestKernel,
  parseBootKernelList,
  parseUnameRelease,
} from "../../src/pve/kernels.js";
import { parseRebootRequiredPkgs, parseRebootRequiredTest } from "../../src/pve/reboot-required.js";
import { fixture } from "./helpers.js";

describe("running kernel and boot id", () => {
  it("reads uname -r and refuses anything that is not one release", () => {
    expect(parseUnameRelease(fixture("uname-r.txt"))).toBe("6.8.12-9-pve");
    expect(() => parseUnameRelease("")).toThrow(/uname -r/);
    expect(() => parseUnameRelease("Linux pve1 6.8.12-9-pve #1 SMP")).toThrow(/one kernel release/);
  });

  it("reads the boot id as a lower-case UUID", () => {
    expect(parseBootId(fixture("boot-id.txt"))).toBe("3f0c2b9e-6d1a-4b8e-9a57-1c2d3e4f5a6b");
    expect(parseBootId("3F0C2B9E-6D1A-4B8E-9A57-1C2D3E4F5A6B\n")).toBe(
      "3f0c2b9e-6d1a-4b8e-9a57-1c2d3e4f5a6b",
    );
    expect(() => parseBootId("cat: /proc/sys/kernel/random/boot_id: No such file or directory")).toThrow(
      /one UUID/,
    );
  });
});

describe("proxmox-boot-tool kernel list", () => {
  it("boots the newest automatic kernel by version, not by list order", () => {
    const list = parseBootKernelList(fixture("boot-tool.auto.txt"));
    expect(list).toEqual({
      manual: [],
      automatic: ["6.8.12-9-pve", "6.8.12-10-pve", "6.5.13-6-pve"],
      pinned: undefined,
      nextBoot: undefined,
    });
    expect(expectedBootKernel(list)).toBe("6.8.12-10-pve");
  });

  it("lets a pinned kernel win over newer automatic ones", () => {
    const list = parseBootKernelList(fixture("boot-tool.pinned.txt"));
    expect(list.pinned).toBe("6.5.13-6-pve");
    expect(expectedBootKernel(list)).toBe("6.5.13-6-pve");
    expect(newestKernel(list)).toBe("6.14.8-2-pve");
  });

  it("lets a next-boot pin win over the permanent pin", () => {
    const list = parseBootKernelList(fixture("boot-tool.next-boot.txt"));
    expect(list).toMatchObject({ pinned: "6.8.12-8-pve", nextBoot: "6.8.12-10-pve" });
    expect(expectedBootKernel(list)).toBe("6.8.12-10-pve");
  });

  it("counts manually selected kernels with the automatic ones", () => {
    const list = parseBootKernelList(fixture("boot-tool.manual.txt"));
    expect(list.manual).toEqual(["6.14.8-2-pve"]);
    expect(expectedBootKernel(list)).toBe("6.14.8-2-pve");
    const older = parseBootKernelList(
      "Manually selected kernels:\n5.15.39-3-pve\n\nAutomatically selected kernels:\n6.8.12-9-pve\n",
    );
    expect(expectedBootKernel(older)).toBe("6.8.12-9-pve");
  });

  it("tolerates a missing blank line, None. anywhere and an unknown future section", () => {
    const list = parseBootKernelList(
      "None.\nManually selected kernels:\nAutomatically selected kernels:\nNone.\n6.8.12-9-pve\nPinned kernel:\nNone.\nUnknown future format:\nsomething else\n",
    );
    expect(list).toEqual({ manual: [], automatic: ["6.8.12-9-pve"], pinned: undefined, nextBoot: undefined });
  });

  it("refuses output that is not a kernel list", () => {
    expect(() => parseBootKernelList("E: no ESPs configured\n")).toThrow(/Automatically selected kernels/);
    expect(() =>
      parseBootKernelList("Automatically selected kernels:\nsee /etc/kernel/cmdline for details\n"),
    ).toThrow(/not a kernel version/);
  });
});

describe("reboot assessment", () => {
  const auto = parseBootKernelList(fixture("boot-tool.auto.txt"));
  const noFlag = { required: false, packages: [] };

  it("needs a reboot when a newer kernel is installed (the flag is often never written on PVE)", () => {
    const a = assessReboot("6.8.12-9-pve", auto, noFlag);
    expect(a.needed).toBe(true);
    expect(a.bootKernel).toBe("6.8.12-10-pve");
    expect(a.reasons[0]).toMatch(
      /running kernel 6.8.12-9-pve, the node would boot newer kernel 6.8.12-10-pve/,
    );
  });

  it("needs none when the node runs the boot kernel and no flag is set", () => {
    expect(assessReboot("6.8.12-10-pve", auto, noFlag)).toMatchObject({ needed: false, reasons: [] });
  });

  it("needs one when only the reboot-required flag is set, naming its packages", () => {
    const a = assessReboot("6.8.12-10-pve", auto, { required: true, packages: ["libc6", "dbus"] });
    expect(a.needed).toBe(true);
    expect(a.reasons).toEqual(["/var/run/reboot-required is set (by libc6, dbus)"]);
  });

  it("reads the flag from test's exit code and the package list from cat", () => {
    expect(parseRebootRequiredTest(0, "")).toBe(true);
    expect(parseRebootRequiredTest(1, "")).toBe(false);
    expect(() => parseRebootRequiredTest(2, "test: missing argument")).toThrow(/test exited 2/);
    expect(parseRebootRequiredPkgs(0, "linux-image-6.1.0-31-amd64\nlibc6\nlibc6\n")).toEqual([
      "linux-image-6.1.0-31-amd64",
      "libc6",
    ]);
    expect(
      parseRebootRequiredPkgs(1, "cat: /var/run/reboot-required.pkgs: No such file or directory\n"),
    ).toEqual([]);
    expect(() =>
      parseRebootRequiredPkgs(1, "cat: /var/run/reboot-required.pkgs: Permission denied\n"),
    ).toThrow(/cat exited 1/);
  });
});
