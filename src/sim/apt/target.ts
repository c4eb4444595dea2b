import { rootUsage } from "../commands/system.js";
import { contentsOf, placeName, type Place } from "../exec/place.js";
import type { AptState, HostState } from "../model/state.js";
import type { Sim } from "../world.js";

/** The package database a program works on: a host's, or the apt database inside a container. */
export interface AptTarget {
  apt: AptState;
  /** The host whose kernels and /run an install affects; undefined inside a container. */
  host?: HostState;
  files: Record<string, string>;
  /** Name used to match faults (`host` field). */
  faultHost: string;
  /** Repository lines apt-get update prints. */
  sources: { url: string; suite: string; component: string; host: string }[];
  diskFull: boolean;
}

const DEBIAN_SOURCES = [
  { url: "http://deb.debian.org/debian", suite: "bookworm", component: "main", host: "deb.debian.org" },
  {
    url: "http://deb.debian.org/debian",
    suite: "bookworm-updates",
    component: "main",
    host: "deb.debian.org",
  },
  {
    url: "http://security.debian.org/debian-security",
    suite: "bookworm-security",
    component: "main",
    host: "security.debian.org",
  },
];

export function aptTarget(sim: Sim, place: Place): AptTarget | undefined {
  if (place.kind === "host") {
    const h = place.host;
    const sources = [...DEBIAN_SOURCES];
    if (h.kind === "pve")
      sources.push({
        url: "http://download.proxmox.com/debian/pve",
        suite: "bookworm",
        component: "pve-no-subscription",
        host: "download.proxmox.com",
      });
    if (h.pbs)
      sources.push({
        url: "http://download.proxmox.com/debian/pbs",
        suite: "bookworm",
        component: "pbs-no-subscription",
        host: "download.proxmox.com",
      });
    const root = rootUsage(sim, h);
    return {
      apt: h.apt,
      host: h,
      files: h.files,
      faultHost: h.name,
      sources,
      diskFull: root.avail < 256 * 1024 * 1024,
    };
  }
  const c = contentsOf(place);
  const apt = c?.os.apt;
  if (!c || !apt) return undefined;
  const ubuntu = c.ostype === "ubuntu";
  const sources = ubuntu
    ? [
        {
          url: "http://archive.ubuntu.com/ubuntu",
          suite: "noble",
          component: "main",
          host: "archive.ubuntu.com",
        },
        {
          url: "http://archive.ubuntu.com/ubuntu",
          suite: "noble-updates",
          component: "main",
          host: "archive.ubuntu.com",
        },
        {
          url: "http://security.ubuntu.com/ubuntu",
          suite: "noble-security",
          component: "main",
          host: "security.ubuntu.com",
        },
      ]
    : DEBIAN_SOURCES;
  const full = sim.faults.find("diskFull", (f) => f.host === placeName(place)) !== undefined;
  return { apt, files: c.files, faultHost: placeName(place), sources, diskFull: full };
}
