import type { HostProfile } from "../../../src/api/host-patch-plan.js";
import type { Gate } from "./contract.js";
import { PVE_GATES } from "./pve.js";

/** The observation bundle of a profile whose gates are not written yet. */
export type NothingObserved = Readonly<Record<never, never>>;

/** No gates registered: such a profile is not ungated, it is not ready (evaluateGates closes it). */
const NOT_YET: readonly Gate<NothingObserved>[] = [];

/** Adding a profile's gates is one entry here; `satisfies` fails the build if a profile is missing. */
const BY_PROFILE = {
  pve: PVE_GATES,
  pbs: NOT_YET,
  debian: NOT_YET,
} satisfies Record<HostProfile, readonly { readonly id: string }[]>;

type ObservedOf<L> = L extends readonly Gate<infer O>[] ? O : never;

/** What each profile's gates read, derived from the registry itself. */
export type ProfileObserved = { readonly [P in HostProfile]: ObservedOf<(typeof BY_PROFILE)[P]> };

/** Every profile's gates, in the order they are evaluated and reported. */
export const GATES: { readonly [P in HostProfile]: readonly Gate<ProfileObserved[P]>[] } = BY_PROFILE;
