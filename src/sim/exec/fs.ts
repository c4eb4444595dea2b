import type { Sim } from "../world.js";
import { contentsOf, kernelHost, type Place } from "./place.js";

/**
 * A minimal file system per host and container: stored files (/etc, /run) plus a few generated
 * /proc files. `/var/run` is `/run`, a tmpfs cleared on boot, as on Debian.
 */

const BASE_DIRS = [
  "/",
  "/etc",
  "/run",
  "/var",
  "/var/run",
  "/var/lib",
  "/var/log",
  "/tmp",
  "/root",
  "/proc",
  "/usr",
  "/usr/bin",
  "/usr/sbin",
  "/bin",
  "/sbin",
  "/opt",
  "/srv",
  "/home",
  "/dev",
];

export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  let p = `/${parts.join("/")}`;
  if (p === "/var/run" || p.startsWith("/var/run/")) p = `/run${p.slice("/var/run".length)}`;
  return p;
}

function filesOf(place: Place): Record<string, string> {
  if (place.kind === "host") return place.host.files;
  return contentsOf(place)?.files ?? {};
}

function uptimeSeconds(sim: Sim, place: Place): number {
  const since = place.kind === "host" ? place.host.bootedAt : (place.guest.startedAt ?? sim.now());
  return Math.max(0, (sim.now() - since) / 1000);
}

function generated(sim: Sim, place: Place, path: string): string | undefined {
  const host = kernelHost(place);
  switch (path) {
    case "/proc/sys/kernel/random/boot_id":
      return `${host.bootId}\n`;
    case "/proc/uptime": {
      const up = uptimeSeconds(sim, place);
      return `${up.toFixed(2)} ${(up * host.cpus * 0.95).toFixed(2)}\n`;
    }
    case "/proc/loadavg":
      return "0.42 0.37 0.31 1/512 4242\n";
    case "/proc/sys/kernel/osrelease":
      return `${host.kernelRunning}\n`;
    case "/proc/version":
      return `Linux version ${host.kernelRunning} (build@proxmox) #1 SMP PREEMPT_DYNAMIC PMX ${host.kernelRunning.replace(/-pve$/, "")}\n`;
    default:
      return undefined;
  }
}

/** Extra directories a container has (venvs, npm projects, compose stacks). */
function containerDirs(place: Place): string[] {
  const c = contentsOf(place);
  if (!c) return [];
  const dirs: string[] = [];
  for (const v of Object.keys(c.pip)) dirs.push(v, `${v}/bin`);
  for (const d of Object.keys(c.npm)) dirs.push(d, `${d}/node_modules`);
  for (const f of Object.keys(c.compose)) dirs.push(f.slice(0, f.lastIndexOf("/")) || "/");
  return dirs;
}

function containerFiles(place: Place): string[] {
  const c = contentsOf(place);
  if (!c) return [];
  const files: string[] = [];
  for (const v of Object.keys(c.pip))
    files.push(`${v}/bin/pip`, `${v}/bin/pip3`, `${v}/bin/python`, `${v}/bin/python3`, `${v}/pyvenv.cfg`);
  for (const d of Object.keys(c.npm)) files.push(`${d}/package.json`, `${d}/package-lock.json`);
  for (const f of Object.keys(c.compose)) files.push(f);
  return files;
}

export function readFile(sim: Sim, place: Place, rawPath: string): string | undefined {
  const path = normalizePath(rawPath);
  const gen = generated(sim, place, path);
  if (gen !== undefined) return gen;
  const stored = filesOf(place)[path];
  if (stored !== undefined) return stored;
  const c = contentsOf(place);
  if (c) {
    for (const f of Object.keys(c.compose))
      if (normalizePath(f) === path) return composeFile(c.compose[f]!.services);
    for (const d of Object.keys(c.npm))
      if (`${normalizePath(d)}/package.json` === path) return packageJson(c.npm[d]!);
    for (const v of Object.keys(c.pip))
      if (`${normalizePath(v)}/pyvenv.cfg` === path)
        return "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n";
  }
  if (containerFiles(place).map(normalizePath).includes(path)) return "";
  return undefined;
}

function composeFile(services: Record<string, { image: string }>): string {
  return `services:\n${Object.entries(services)
    .map(([n, s]) => `  ${n}:\n    image: ${s.image}\n    restart: unless-stopped\n`)
    .join("")}`;
}

function packageJson(pkgs: Record<string, { installed: string }>): string {
  const deps = Object.fromEntries(Object.entries(pkgs).map(([n, p]) => [n, `^${p.installed}`]));
  return `${JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: deps }, null, 2)}\n`;
}

export function statPath(sim: Sim, place: Place, rawPath: string): "file" | "dir" | undefined {
  const path = normalizePath(rawPath);
  if (readFile(sim, place, path) !== undefined) return "file";
  const dirs = new Set(BASE_DIRS.map(normalizePath));
  const add = (file: string): void => {
    let p = normalizePath(file);
    while (p !== "/") {
      p = p.slice(0, p.lastIndexOf("/")) || "/";
      dirs.add(p);
    }
  };
  for (const f of Object.keys(filesOf(place))) add(f);
  for (const d of containerDirs(place)) {
    dirs.add(normalizePath(d));
    add(d);
  }
  for (const f of containerFiles(place)) add(f);
  if (place.kind === "host" && place.host.kind === "pve")
    ["/etc/pve", "/etc/pve/nodes", "/var/lib/vz", "/var/lib/vz/dump"].forEach((d) => dirs.add(d));
  return dirs.has(path) ? "dir" : undefined;
}

/** Writes into the in-memory file system; only under directories that exist (and never into /proc). */
export function writeFile(
  sim: Sim,
  place: Place,
  rawPath: string,
  content: string,
  append: boolean,
): boolean {
  const path = normalizePath(rawPath);
  if (path.startsWith("/proc/") || path === "/") return false;
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  if (statPath(sim, place, parent) !== "dir") return false;
  if (statPath(sim, place, path) === "dir") return false;
  const files = filesOf(place);
  files[path] = append ? (files[path] ?? "") + content : content;
  return true;
}

export function removeFile(place: Place, rawPath: string): boolean {
  const path = normalizePath(rawPath);
  const files = filesOf(place);
  if (files[path] === undefined) return false;
  delete files[path];
  return true;
}

/** /run is a tmpfs: a boot starts with it empty. */
export function clearRun(files: Record<string, string>): void {
  for (const p of Object.keys(files)) if (p === "/run" || p.startsWith("/run/")) delete files[p];
}
