import { TerminalError } from "../errors.js";
import { fakeDigest } from "./model/build.js";
import { defaultOrigin } from "./model/defaults.js";
import { addKernel } from "./model/kernels.js";
import type { AptState, HostState } from "./model/state.js";
import type { Sim } from "./world.js";

/**
 * New versions appearing upstream. Host and container OS repositories receive them in the remote
 * repo only, so they show up after the next `apt-get update` (as on a real host); pip, npm and
 * container registries are queried live, so their candidates are visible at once.
 */
export type PublishRequest =
  | {
      package: string;
      version: string;
      node?: string;
      cluster?: string;
      host?: string;
      arch?: string;
      origin?: string;
    }
  | { kernel: string; node?: string; cluster?: string; host?: string }
  | { vmid: number; ecosystem: "apt" | "dnf" | "apk" | "pacman"; package: string; version: string }
  | { vmid: number; ecosystem: "pip"; venv: string; package: string; version: string }
  | { vmid: number; ecosystem: "npm"; dir: string; package: string; version: string }
  | { vmid: number; ecosystem: "compose"; file: string; service: string; digest?: string };

function invalid(message: string): never {
  throw new TerminalError("InvalidPublish", `${message}; check the publish request.`);
}

function targetHosts(sim: Sim, req: { node?: string; cluster?: string; host?: string }): HostState[] {
  const name = req.host ?? req.node;
  if (name) {
    const h = sim.host(name);
    if (!h) invalid(`No simulated host '${name}'`);
    return [h];
  }
  const hosts = Object.values(sim.state.hosts).filter(
    (h) => h.kind === "pve" && (req.cluster === undefined || h.cluster === req.cluster),
  );
  if (hosts.length === 0) invalid(`No PVE nodes in cluster '${req.cluster ?? "*"}'`);
  return hosts;
}

function publishApt(apt: AptState, pkg: string, version: string, arch: string, origin: string): void {
  apt.repo[pkg] = { version, arch, origin };
}

export function publish(sim: Sim, req: PublishRequest): void {
  if ("vmid" in req) {
    const g = sim.guest(req.vmid);
    if (!g?.contents) invalid(`Guest ${req.vmid} is not a simulated container`);
    const c = g.contents;
    switch (req.ecosystem) {
      case "apt":
      case "dnf":
      case "apk":
      case "pacman": {
        const os = c.os[req.ecosystem];
        if (!os) invalid(`Container ${req.vmid} has no ${req.ecosystem} packages`);
        publishApt(os, req.package, req.version, "amd64", "Debian:12.10/stable");
        return;
      }
      case "pip": {
        const venv = c.pip[req.venv];
        if (!venv) invalid(`Container ${req.vmid} has no pip venv ${req.venv}`);
        const p = venv[req.package];
        if (!p) invalid(`pip package ${req.package} is not installed in ${req.venv}`);
        p.candidate = req.version;
        return;
      }
      case "npm": {
        const dir = c.npm[req.dir];
        if (!dir) invalid(`Container ${req.vmid} has no npm project ${req.dir}`);
        const p = dir[req.package];
        if (!p) invalid(`npm package ${req.package} is not a dependency of ${req.dir}`);
        p.candidate = req.version;
        return;
      }
      case "compose": {
        const stack = c.compose[req.file];
        const svc = stack?.services[req.service];
        if (!svc) invalid(`Container ${req.vmid} has no compose service ${req.service} in ${req.file}`);
        svc.registryDigest = req.digest ?? fakeDigest(`${svc.image}@${sim.now()}`);
        return;
      }
    }
  }
  if ("kernel" in req) {
    if (!/^\d+\.\d+\.\d+-\d+-[a-z0-9]+$/.test(req.kernel)) invalid(`'${req.kernel}' is not a kernel release`);
    for (const h of targetHosts(sim, req))
      addKernel(h.apt.repo, req.kernel, defaultOrigin("proxmox-kernel", h.pbs ? "pbs" : h.kind));
    return;
  }
  for (const h of targetHosts(sim, req)) {
    const current = h.apt.repo[req.package] ?? h.apt.installed[req.package];
    publishApt(
      h.apt,
      req.package,
      req.version,
      req.arch ?? current?.arch ?? "amd64",
      req.origin ?? current?.origin ?? defaultOrigin(req.package, h.pbs ? "pbs" : h.kind),
    );
  }
}
