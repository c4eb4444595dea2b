import { describe, expect, it } from "vitest";
import { os } from "../../src/runners/os/index.js";
import { managerFor } from "../../src/runners/os/manager.js";
import { parseCheckUpdate } from "../../src/runners/os/dnf.js";
import { parseListUpdates } from "../../src/runners/os/zypper.js";
import { splitNameVersion } from "../../src/runners/os/apk.js";
import {
  ParseError,
  RepositoryUnreachableError,
  StepFailedError,
  UnsupportedOsError,
} from "../../src/runners/errors.js";
import { answer, DEBIAN, spec } from "./support.js";
import { fixture } from "./cases.js";

describe("the os runner picks its package manager", () => {
  it.each([
    ["debian", "apt"],
    ["ubuntu", "apt"],
    ["devuan", "apt"],
    ["alpine", "apk"],
    ["archlinux", "pacman"],
    ["fedora", "dnf"],
    ["centos", "dnf"],
    ["almalinux", "dnf"],
    ["rockylinux", "dnf"],
    ["opensuse", "zypper"],
  ])("auto on %s: %s", (ostype, manager) => {
    expect(managerFor({ manager: "auto" }, { ostype })).toBe(manager);
  });

  it("the spec's manager wins over the ostype", () => {
    expect(managerFor({ manager: "apk" }, { ostype: "debian" })).toBe("apk");
  });

  it("an ostype no manager covers is a terminal error that says what to set", () => {
    const target = { vmid: 250, ostype: "gentoo", unprivileged: true };
    expect(() => os.list(spec({ type: "os" }), target)).toThrow(UnsupportedOsError);
    expect(() => os.list(spec({ type: "os" }), target)).toThrow(
      /CT 250 has ostype "gentoo".*set the runner's manager/,
    );
  });
});

describe("apt", () => {
  const s = spec({ type: "os" });
  const steps = [...os.refresh!(s, DEBIAN), ...os.list(s, DEBIAN)];

  it("refreshes with apt-get update and lists with a simulated dist-upgrade, in English", () => {
    expect(steps.map((x) => x.argv)).toEqual([
      ["apt-get", "update"],
      ["apt-get", "-o", "DPkg::Lock::Timeout=60", "-s", "dist-upgrade"],
    ]);
    expect(os.list(s, DEBIAN)).toHaveLength(1);
    expect(steps.every((x) => x.env?.LC_ALL === "C")).toBe(true);
    expect(os.list(spec({ type: "os", upgrade: "safe" }), DEBIAN)[0]!.argv.at(-1)).toBe("upgrade");
  });

  it("an index that could not be fetched gives no pending list, but a RepositoryUnreachableError", () => {
    const results = answer(steps, {
      update: {
        stdout:
          "Err:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving 'deb.debian.org'\n",
        stderr:
          "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\nW: Some index files failed to download. They have been ignored, or old ones used instead.\n",
      },
      simulate: fixture("apt-get-s-dist-upgrade.txt"),
    });
    expect(() => os.pending(s, DEBIAN, results)).toThrow(RepositoryUnreachableError);
  });

  it("a simulation without apt's summary line is unreadable, not 'nothing to do'", () => {
    const results = answer(steps, { simulate: "Reading package lists...\n" });
    expect(() => os.pending(s, DEBIAN, results)).toThrow(ParseError);
  });

  it("a listing step that failed is a StepFailedError with its exit code", () => {
    const results = answer(steps, {
      update: { exitCode: 100, stderr: "E: Could not get lock /var/lib/apt/lists/lock" },
    });
    expect(() => os.pending(s, DEBIAN, results)).toThrow(StepFailedError);
  });

  it("applies non-interactively, keeping changed config files, with a bounded wait for the dpkg lock", () => {
    const [step] = os.apply(s, DEBIAN, [{ package: "nginx", from: "1", to: "2" }]);
    expect(step).toMatchObject({ job: true, env: { DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" } });
    expect(step!.argv).toEqual([
      "apt-get",
      "-y",
      "-o",
      "DPkg::Lock::Timeout=600",
      "-o",
      "Dpkg::Options::=--force-confdef",
      "-o",
      "Dpkg::Options::=--force-confold",
      "dist-upgrade",
    ]);
  });

  it("with an allow list, names only the allowed pending packages to install --only-upgrade; autoremove after", () => {
    const a = spec({ type: "os", autoremove: true, packages: { allow: ["nginx*"] } });
    const steps2 = os.apply(a, DEBIAN, [{ package: "nginx", from: "1", to: "2" }]);
    expect(steps2.map((x) => x.argv.slice(-3))).toEqual([
      ["install", "--only-upgrade", "nginx"],
      ["-o", "Dpkg::Options::=--force-confold", "autoremove"],
    ]);
  });

  it("holds denied names and globs as arguments of a fixed script; the release takes no arguments", () => {
    const d = spec({ type: "os", packages: { deny: ["postgresql*", "nginx"] } });
    const [hold] = os.hold(d, DEBIAN);
    const [release] = os.release(d, DEBIAN);
    expect(hold!.argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(hold!.argv.slice(3)).toEqual(["refit-apt-mark", "postgresql*", "nginx"]);
    expect(hold!.argv[2]).not.toContain("postgresql");
    expect(release!.argv.slice(3)).toEqual(["refit-apt-mark"]);
    expect(os.hold(spec({ type: "os" }), DEBIAN)).toEqual([]);
    // A run that crashed while holding is released even when the deny list has gone since.
    expect(os.release(spec({ type: "os" }), DEBIAN)).toHaveLength(1);
  });

  it("runs as another user through runuser when the spec says so, with the spec's environment", () => {
    const u = spec({ type: "os", user: "deploy", env: { HTTP_PROXY: "http://proxy:3128" } });
    const [first] = os.refresh!(u, DEBIAN);
    expect(first!.argv).toEqual(["runuser", "-u", "deploy", "--", "apt-get", "update"]);
    expect(first!.env).toEqual({ HTTP_PROXY: "http://proxy:3128", LC_ALL: "C" });
  });
});

describe("dnf, apk, pacman, zypper", () => {
  it("dnf check-update exit 0 is 'nothing', 100 is 'updates', 1 is an error", () => {
    const t = { vmid: 300, ostype: "fedora", unprivileged: true };
    const s = spec({ type: "os" });
    const steps = os.list(s, t);
    expect(os.pending(s, t, answer(steps, { "check-update": "" }))).toEqual([]);
    expect(() =>
      os.pending(
        s,
        t,
        answer(steps, {
          "check-update": { exitCode: 1, stderr: "Error: Failed to download metadata for repo 'updates'" },
        }),
      ),
    ).toThrow(StepFailedError);
  });

  it("dnf rows that wrap onto a second line are read as one row", () => {
    expect(parseCheckUpdate(fixture("dnf-check-update.txt")).map((r) => r.name)).toEqual([
      "curl",
      "libcurl",
      "NetworkManager-libnm",
      "python3-setuptools-wheel-with-a-long-name",
    ]);
    expect(() => parseCheckUpdate("curl.x86_64 8.2.1-5.fc39\n")).toThrow(ParseError);
  });

  it("pacman -Qu exiting 1 means nothing to upgrade", () => {
    const t = { vmid: 302, ostype: "archlinux", unprivileged: true };
    const s = spec({ type: "os" });
    expect(os.pending(s, t, answer(os.list(s, t), { upgradable: { exitCode: 1 } }))).toEqual([]);
  });

  it("apk names split at the version, which may itself contain dashes", () => {
    expect(splitNameVersion("py3-setuptools-70.3.0-r0")).toEqual({
      name: "py3-setuptools",
      version: "70.3.0-r0",
    });
    expect(splitNameVersion("busybox-1.36.1-r20")).toEqual({ name: "busybox", version: "1.36.1-r20" });
  });

  it("zypper: no updates, and locks for denied packages", () => {
    expect(
      parseListUpdates("Loading repository data...\nReading installed packages...\nNo updates found.\n"),
    ).toEqual([]);
    expect(() => parseListUpdates("Repository 'Main' is invalid.\n")).toThrow(ParseError);
    const t = { vmid: 303, ostype: "opensuse", unprivileged: true };
    const d = spec({ type: "os", packages: { deny: ["kernel-default*"] } });
    expect(os.hold(d, t)[0]!.argv).toEqual(["zypper", "--non-interactive", "addlock", "kernel-default*"]);
    expect(os.release(d, t)[0]!.argv).toEqual([
      "zypper",
      "--non-interactive",
      "removelock",
      "kernel-default*",
    ]);
    expect(os.apply(spec({ type: "os" }), t, [{ package: "at", to: "2" }])[0]!.argv).toContain(
      "dist-upgrade",
    );
  });
});
