import type { Runner, RunnerType } from "../api/runners.js";
import type { RunnerPlugin } from "./contract.js";
import { composer } from "./composer/index.js";
import { custom } from "./custom/index.js";
import { dockerCompose } from "./dockerCompose/index.js";
import { flatpak } from "./flatpak/index.js";
import { gem } from "./gem/index.js";
import { go } from "./go/index.js";
import { helm } from "./helm/index.js";
import { npm } from "./npm/index.js";
import { os } from "./os/index.js";
import { pip } from "./pip/index.js";
import { pipx } from "./pipx/index.js";
import { pnpm } from "./pnpm/index.js";
import { snap } from "./snap/index.js";
import { yarn } from "./yarn/index.js";

/**
 * Every runner, by type: one folder each under src/runners, listed here by hand so that adding a
 * runner is a visible change (test/runners/contract.test.ts fails when a folder or a type is
 * missing). Guide: docs/runners.md.
 */
export const RUNNERS: { [K in RunnerType]: RunnerPlugin<Extract<Runner, { type: K }>> } = {
  os,
  pip,
  pipx,
  npm,
  yarn,
  pnpm,
  composer,
  gem,
  go,
  snap,
  flatpak,
  helm,
  dockerCompose,
  custom,
};

/** The plugin for a runner spec, typed to it (the map's value type cannot be narrowed by a lookup). */
export function pluginFor<T extends Runner>(spec: T): RunnerPlugin<T> {
  return RUNNERS[spec.type] as unknown as RunnerPlugin<T>;
}
