import type { ContainerContents, GuestState, HostState } from "../model/state.js";

/** Where a process runs: on a host (PVE node or VM host), or inside a container on a node. */
export type Place =
  { kind: "host"; host: HostState } | { kind: "container"; guest: GuestState; node: HostState };

export function placeName(place: Place): string {
  return place.kind === "host" ? place.host.name : `ct${place.guest.vmid}`;
}

export function contentsOf(place: Place): ContainerContents | undefined {
  return place.kind === "container" ? place.guest.contents : undefined;
}

/** The machine whose kernel the process sees (a container shares its node's). */
export function kernelHost(place: Place): HostState {
  return place.kind === "host" ? place.host : place.node;
}
