/**
 * One small case per runner type for the contract test: a spec, what its listing steps print, the
 * pending updates read from that, the apply argv, what the installed listing prints afterwards and
 * the changes read from it. Output formats: fixtures/SOURCES.md and each parser's comment.
 */
import { readFileSync } from "node:fs";
import type { RunnerType } from "../../src/api/runners.js";
import type { Change, RunnerTarget } from "../../src/runners/contract.js";

type Out = string | { stdout?: string; stderr?: string; exitCode?: number };

export interface ContractCase {
  name: string;
  spec: { type: RunnerType } & Record<string, unknown>;
  target?: RunnerTarget;
  list: Record<string, Out>;
  pending: Change[];
  applyArgv?: string[][];
  installed: Record<string, Out>;
  changes: Change[];
}

export const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

const APT_NONINTERACTIVE = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];

export const CASES: ContractCase[] = [
  {
    name: "os (apt, a denied package)",
    spec: { type: "os", packages: { deny: ["linux-image-*"] } },
    list: {
      update: "Hit:1 http://deb.debian.org/debian bookworm InRelease\nReading package lists...\n",
      simulate: fixture("apt-get-s-dist-upgrade.txt"),
    },
    pending: [
      { package: "curl", from: "7.88.1-10+deb12u8", to: "7.88.1-10+deb12u12" },
      { package: "libcurl4", from: "7.88.1-10+deb12u8", to: "7.88.1-10+deb12u12" },
      { package: "nginx", from: "1.22.1-9", to: "1.22.1-9+deb12u1" },
    ],
    applyArgv: [["apt-get", "-y", "-o", "DPkg::Lock::Timeout=600", ...APT_NONINTERACTIVE, "dist-upgrade"]],
    installed: {
      installed: "curl\t7.88.1-10+deb12u12\nlibcurl4\t7.88.1-10+deb12u8\nnginx\t1.22.1-9+deb12u1\n",
    },
    changes: [
      { package: "curl", from: "7.88.1-10+deb12u8", to: "7.88.1-10+deb12u12" },
      { package: "nginx", from: "1.22.1-9", to: "1.22.1-9+deb12u1" },
    ],
  },
  {
    name: "os (dnf by ostype, exit 100 means updates)",
    spec: { type: "os", packages: { deny: ["NetworkManager*"] } },
    target: { vmid: 300, ostype: "fedora", unprivileged: true },
    list: {
      "check-update": { stdout: fixture("dnf-check-update.txt"), exitCode: 100 },
      "installed-before": fixture("rpm-qa.txt"),
    },
    pending: [
      { package: "curl", from: "8.2.1-4.fc39", to: "8.2.1-5.fc39" },
      { package: "libcurl", from: "8.2.1-4.fc39", to: "8.2.1-5.fc39" },
      { package: "python3-setuptools-wheel-with-a-long-name", to: "67.7.2-8.fc39" },
    ],
    applyArgv: [["dnf", "-y", "--exclude=NetworkManager*", "upgrade"]],
    installed: {
      installed:
        "curl\t8.2.1-5.fc39\nlibcurl\t8.2.1-5.fc39\npython3-setuptools-wheel-with-a-long-name\t67.7.2-8.fc39\n",
    },
    changes: [
      { package: "curl", from: "8.2.1-4.fc39", to: "8.2.1-5.fc39" },
      { package: "libcurl", from: "8.2.1-4.fc39", to: "8.2.1-5.fc39" },
      { package: "python3-setuptools-wheel-with-a-long-name", to: "67.7.2-8.fc39" },
    ],
  },
  {
    name: "os (apk by ostype, an allow list)",
    spec: { type: "os", packages: { allow: ["busybox", "ssl_client"] } },
    target: { vmid: 301, ostype: "alpine", unprivileged: true },
    list: { update: "OK: 24123 distinct packages available\n", upgradable: fixture("apk-list-u.txt") },
    pending: [
      { package: "busybox", from: "1.36.1-r19", to: "1.36.1-r20" },
      { package: "ssl_client", from: "1.36.1-r19", to: "1.36.1-r20" },
    ],
    applyArgv: [["apk", "upgrade", "--available", "busybox", "ssl_client"]],
    installed: {
      installed:
        "busybox-1.36.1-r20 x86_64 {busybox} (GPL-2.0-only) [installed]\nssl_client-1.36.1-r19 x86_64 {busybox} (GPL-2.0-only) [installed]\n",
    },
    changes: [{ package: "busybox", from: "1.36.1-r19", to: "1.36.1-r20" }],
  },
  {
    name: "os (pacman by ostype)",
    spec: { type: "os", packages: { deny: ["jq"] } },
    target: { vmid: 302, ostype: "archlinux", unprivileged: false },
    list: { sync: ":: Synchronizing package databases...\n", upgradable: fixture("pacman-Qu.txt") },
    pending: [{ package: "git", from: "2.50.0-1", to: "2.51.1-1" }],
    applyArgv: [["pacman", "-Syu", "--noconfirm", "--ignore", "jq"]],
    installed: { installed: "git 2.51.1-1\njq 1.7-1\n" },
    changes: [{ package: "git", from: "2.50.0-1", to: "2.51.1-1" }],
  },
  {
    name: "os (zypper by ostype, a lock for the run)",
    spec: { type: "os", upgrade: "safe", packages: { deny: ["at"] } },
    target: { vmid: 303, ostype: "opensuse", unprivileged: true },
    list: {
      refresh: "All repositories have been refreshed.\n",
      "list-updates": fixture("zypper-list-updates.txt"),
    },
    pending: [{ package: "autoyast2-installation", from: "3.2.17-1.3", to: "3.2.22-2.9.2" }],
    applyArgv: [["zypper", "--non-interactive", "update", "--auto-agree-with-licenses"]],
    installed: { installed: "autoyast2-installation\t3.2.22-2.9.2\nat\t3.1.14-7.3\n" },
    changes: [{ package: "autoyast2-installation", from: "3.2.17-1.3", to: "3.2.22-2.9.2" }],
  },
  {
    name: "pip (a venv)",
    spec: { type: "pip", venvs: ["/opt/app/venv"], packages: { deny: ["requests"] } },
    list: {
      // pip 23 `list --outdated --format=json`
      "outdated-0":
        '[{"name": "Flask", "version": "3.0.3", "latest_version": "3.1.0", "latest_filetype": "wheel"}, {"name": "requests", "version": "2.31.0", "latest_version": "2.32.3", "latest_filetype": "wheel"}]\n',
    },
    pending: [{ package: "/opt/app/venv:flask", from: "3.0.3", to: "3.1.0" }],
    applyArgv: [
      ["/opt/app/venv/bin/pip", "install", "--upgrade", "--upgrade-strategy=only-if-needed", "flask"],
    ],
    installed: {
      "installed-0": '[{"name": "Flask", "version": "3.1.0"}, {"name": "requests", "version": "2.31.0"}]\n',
    },
    changes: [{ package: "/opt/app/venv:flask", from: "3.0.3", to: "3.1.0" }],
  },
  {
    name: "pipx",
    spec: { type: "pipx" },
    list: {
      list: JSON.stringify({
        pipx_spec_version: "0.1",
        venvs: {
          black: {
            metadata: {
              main_package: { package: "black", package_version: "24.1.0" },
              injected_packages: {},
            },
          },
        },
      }),
    },
    pending: [{ package: "black", from: "24.1.0" }],
    applyArgv: [["pipx", "upgrade-all", "--include-injected"]],
    installed: {
      installed: JSON.stringify({
        pipx_spec_version: "0.1",
        venvs: { black: { metadata: { main_package: { package: "black", package_version: "24.2.0" } } } },
      }),
    },
    changes: [{ package: "black", from: "24.1.0", to: "24.2.0" }],
  },
  {
    name: "npm (a project, devDependencies left alone)",
    spec: { type: "npm", projects: ["/srv/app"] },
    list: {
      "outdated-0": {
        exitCode: 1,
        stdout: JSON.stringify({
          express: {
            current: "4.21.1",
            wanted: "4.21.2",
            latest: "5.0.1",
            dependent: "app",
            location: "/srv/app/node_modules/express",
            type: "dependencies",
          },
          vitest: {
            current: "1.0.0",
            wanted: "1.6.0",
            latest: "2.0.0",
            dependent: "app",
            location: "/srv/app/node_modules/vitest",
            type: "devDependencies",
          },
          left: { wanted: "1.0.0", latest: "1.0.0", dependent: "app", location: "", type: "dependencies" },
        }),
      },
    },
    pending: [{ package: "/srv/app:express", from: "4.21.1", to: "4.21.2" }],
    applyArgv: [["npm", "update", "--prefix", "/srv/app", "--omit=dev", "express"]],
    installed: {
      "installed-0": JSON.stringify({
        name: "app",
        version: "1.0.0",
        dependencies: { express: { version: "4.21.2" } },
      }),
    },
    changes: [{ package: "/srv/app:express", from: "4.21.1", to: "4.21.2" }],
  },
  {
    name: "yarn (classic, latest)",
    spec: { type: "yarn", projects: ["/srv/web"], strategy: "latest" },
    list: {
      "outdated-0": {
        exitCode: 1,
        stdout:
          '{"type":"info","data":"Color legend : ..."}\n{"type":"table","data":{"head":["Package","Current","Wanted","Latest","Package Type","URL"],"body":[["react","18.2.0","18.3.1","19.0.0","dependencies","https://react.dev/"]]}}\n',
      },
    },
    pending: [{ package: "/srv/web:react", from: "18.2.0", to: "19.0.0" }],
    applyArgv: [["yarn", "--cwd", "/srv/web", "upgrade", "--non-interactive", "--latest", "react"]],
    installed: {
      "installed-0":
        '{"type":"tree","data":{"type":"list","trees":[{"name":"react@19.0.0","children":[],"hint":null,"color":"bold","depth":0}]}}\n',
    },
    changes: [{ package: "/srv/web:react", from: "18.2.0", to: "19.0.0" }],
  },
  {
    name: "pnpm (global)",
    spec: { type: "pnpm", scope: "global" },
    list: {
      "outdated-0": {
        exitCode: 1,
        stdout: JSON.stringify({
          typescript: {
            current: "5.4.5",
            latest: "5.7.2",
            wanted: "5.7.2",
            isDeprecated: false,
            dependencyType: "dependencies",
          },
        }),
      },
    },
    pending: [{ package: "global:typescript", from: "5.4.5", to: "5.7.2" }],
    applyArgv: [["pnpm", "update", "-g", "typescript"]],
    installed: {
      "installed-0": JSON.stringify([
        {
          path: "/root/.local/share/pnpm/global/5",
          dependencies: { typescript: { from: "typescript", version: "5.7.2" } },
        },
      ]),
    },
    changes: [{ package: "global:typescript", from: "5.4.5", to: "5.7.2" }],
  },
  {
    name: "composer (semver-safe updates only)",
    spec: { type: "composer", projects: ["/var/www/site"] },
    list: {
      "outdated-0": JSON.stringify({
        installed: [
          {
            name: "monolog/monolog",
            "direct-dependency": true,
            version: "3.5.0",
            latest: "3.8.1",
            "latest-status": "semver-safe-update",
            description: "Logs",
          },
          {
            name: "symfony/console",
            "direct-dependency": true,
            version: "6.4.1",
            latest: "7.2.1",
            "latest-status": "update-possible",
            description: "CLI",
          },
        ],
      }),
    },
    pending: [{ package: "/var/www/site:monolog/monolog", from: "3.5.0", to: "3.8.1" }],
    applyArgv: [
      [
        "composer",
        "update",
        "--no-dev",
        "--with-dependencies",
        "--working-dir",
        "/var/www/site",
        "--no-interaction",
        "--no-ansi",
      ],
    ],
    installed: {
      "installed-0": JSON.stringify({
        installed: [{ name: "monolog/monolog", version: "3.8.1", description: "Logs" }],
      }),
    },
    changes: [{ package: "/var/www/site:monolog/monolog", from: "3.5.0", to: "3.8.1" }],
  },
  {
    name: "gem (a Gemfile)",
    spec: { type: "gem", projects: ["/srv/rails"] },
    list: {
      "outdated-0": {
        exitCode: 1,
        stdout:
          "rack (newest 2.2.10, installed 2.2.8, requested ~> 2.2)\nrake (newest 13.2.1, installed 13.1.0)\n",
      },
    },
    pending: [
      { package: "/srv/rails:rack", from: "2.2.8", to: "2.2.10" },
      { package: "/srv/rails:rake", from: "13.1.0", to: "13.2.1" },
    ],
    applyArgv: [["bundle", "update", "--conservative", "rack", "rake"]],
    installed: {
      "installed-0":
        "Gems included by the bundle:\n  * rack (2.2.10)\n  * rake (13.2.1)\nUse `bundle info` to print more detailed information about a gem\n",
    },
    changes: [
      { package: "/srv/rails:rack", from: "2.2.8", to: "2.2.10" },
      { package: "/srv/rails:rake", from: "13.1.0", to: "13.2.1" },
    ],
  },
  {
    name: "go (a module root)",
    spec: { type: "go", modules: ["golang.org/x/tools/gopls"] },
    list: {
      binaries:
        "/root/go/bin/gopls: go1.22.2\n\tpath\tgolang.org/x/tools/gopls\n\tmod\tgolang.org/x/tools/gopls\tv0.15.3\th1:abc=\n\tdep\tgithub.com/google/go-cmp\tv0.6.0\th1:def=\n",
      "latest-0":
        '{\n\t"Path": "golang.org/x/tools/gopls",\n\t"Version": "v0.16.2",\n\t"Time": "2024-08-29T17:00:00Z"\n}\n',
    },
    pending: [{ package: "golang.org/x/tools/gopls", from: "v0.15.3", to: "v0.16.2" }],
    applyArgv: [["go", "install", "golang.org/x/tools/gopls@latest"]],
    installed: {
      installed:
        "/root/go/bin/gopls: go1.22.2\n\tpath\tgolang.org/x/tools/gopls\n\tmod\tgolang.org/x/tools/gopls\tv0.16.2\th1:xyz=\n",
    },
    changes: [{ package: "golang.org/x/tools/gopls", from: "v0.15.3", to: "v0.16.2" }],
  },
  {
    name: "snap",
    spec: { type: "snap", packages: { deny: ["core22"] } },
    list: {
      "refresh-list":
        "Name    Version  Rev   Size   Publisher     Notes\ncore22  20240111 1122  77MB   canonical✓    base\nlxd     5.21.2   29619 91MB   canonical✓    -\n",
      before:
        "Name    Version   Rev    Tracking       Publisher   Notes\ncore22  20231123  1033   latest/stable  canonical✓  base\nlxd     5.21.1    28463  5.21/stable    canonical✓  -\n",
    },
    pending: [{ package: "lxd", from: "5.21.1", to: "5.21.2" }],
    applyArgv: [["snap", "refresh", "lxd"]],
    installed: {
      installed:
        "Name    Version   Rev    Tracking       Publisher   Notes\nlxd     5.21.2    29619  5.21/stable    canonical✓  -\n",
    },
    changes: [{ package: "lxd", from: "5.21.1", to: "5.21.2" }],
  },
  {
    name: "flatpak (system)",
    spec: { type: "flatpak" },
    list: {
      updates: "org.mozilla.firefox\t133.0\t1a2b3c4d5e6f7a8b\norg.freedesktop.Platform\t\t9f8e7d6c5b4a3f2e\n",
      before: "org.mozilla.firefox\t132.0\tffeeddccbbaa\norg.freedesktop.Platform\t\t000111222333\n",
    },
    pending: [
      { package: "org.mozilla.firefox", from: "132.0", to: "133.0" },
      { package: "org.freedesktop.Platform", from: "000111222333", to: "9f8e7d6c5b4a" },
    ],
    applyArgv: [
      [
        "flatpak",
        "update",
        "-y",
        "--noninteractive",
        "--system",
        "org.mozilla.firefox",
        "org.freedesktop.Platform",
      ],
    ],
    installed: {
      installed: "org.mozilla.firefox\t133.0\t1a2b3c4d5e6f\norg.freedesktop.Platform\t\t9f8e7d6c5b4a3f2e\n",
    },
    changes: [
      { package: "org.mozilla.firefox", from: "132.0", to: "133.0" },
      { package: "org.freedesktop.Platform", from: "000111222333", to: "9f8e7d6c5b4a" },
    ],
  },
  {
    name: "helm (one release)",
    spec: { type: "helm", releases: [{ name: "web", namespace: "apps", chart: "bitnami/nginx" }] },
    list: {
      "repo-update":
        "Hang tight while we grab the latest from your chart repositories...\nUpdate Complete. ⎈Happy Helming!⎈\n",
      releases: JSON.stringify([
        {
          name: "web",
          namespace: "apps",
          revision: "3",
          updated: "2024-11-02 10:00:00 +0000 UTC",
          status: "deployed",
          chart: "nginx-18.2.4",
          app_version: "1.27.2",
        },
      ]),
      "chart-0":
        "annotations:\n  category: Infrastructure\napiVersion: v2\nappVersion: 1.27.3\nname: nginx\nversion: 18.3.1\n",
    },
    pending: [{ package: "apps/web", from: "18.2.4", to: "18.3.1" }],
    installed: {
      installed: JSON.stringify([
        { name: "web", namespace: "apps", revision: "4", status: "deployed", chart: "nginx-18.3.1" },
      ]),
    },
    changes: [{ package: "apps/web", from: "18.2.4", to: "18.3.1" }],
  },
  {
    name: "dockerCompose (one stack)",
    spec: { type: "dockerCompose", projects: ["/opt/stack"] },
    list: {
      "images-0": JSON.stringify([
        {
          ID: "sha256:aaaa1111",
          ContainerName: "stack-redis-1",
          Repository: "redis",
          Tag: "7.2",
          Size: 117000000,
        },
      ]),
    },
    pending: [{ package: "/opt/stack:stack-redis-1", from: "sha256:aaaa1111" }],
    applyArgv: [
      ["docker", "compose", "--project-directory", "/opt/stack", "pull", "--quiet"],
      ["docker", "compose", "--project-directory", "/opt/stack", "up", "-d"],
    ],
    installed: {
      "installed-0": JSON.stringify([
        {
          ID: "sha256:bbbb2222",
          ContainerName: "stack-redis-1",
          Repository: "redis",
          Tag: "7.2",
          Size: 117000000,
        },
      ]),
    },
    changes: [{ package: "/opt/stack:stack-redis-1", from: "sha256:aaaa1111", to: "sha256:bbbb2222" }],
  },
  {
    name: "custom (a checked step and an unchecked one)",
    spec: {
      type: "custom",
      steps: [
        {
          name: "app",
          checkPending: ["/usr/local/bin/app-update", "--check"],
          apply: ["/usr/local/bin/app-update"],
        },
        { name: "fresh", checkPending: ["/usr/local/bin/fresh", "--check"], apply: ["/usr/local/bin/fresh"] },
        { name: "always", apply: ["/usr/local/bin/always"], expectedExitCodes: [0, 2] },
      ],
    },
    list: { "check-app": { exitCode: 0 }, "check-fresh": { exitCode: 1 } },
    pending: [{ package: "app" }, { package: "always" }],
    applyArgv: [["/usr/local/bin/app-update"], ["/usr/local/bin/always"]],
    installed: { "check-app": { exitCode: 1 }, "check-fresh": { exitCode: 1 } },
    changes: [{ package: "app" }, { package: "always" }],
  },
];
