import type { DockerComposeRunner } from "../../api/runners.js";
import type { Change, RunnerPlugin, RunnerStep } from "../contract.js";
import { located, okResult, splitLocated, step, toolAnswers, versionChanges } from "../steps.js";
import { parseComposeImages } from "./parsers.js";

/**
 * docker compose per stack directory: `pull`, then `up -d`, which recreates only the services whose
 * image changed (compose compares the container's image with the pulled one). Names are
 * `<dir>:<container>`, versions the image id each container runs: the digests before and after.
 *
 * Which images the registry has newer cannot be known without pulling (a listing must change
 * nothing), so every service is pending with an unknown target; a stack whose pull brings nothing
 * new is reported with no changes and `up -d` leaves its containers alone.
 */

const compose = (dir: string): string[] => ["docker", "compose", "--project-directory", dir];

function imagesSteps(spec: DockerComposeRunner, prefix: string): RunnerStep[] {
  return spec.projects.map((d, i) =>
    step(spec, "list", `${prefix}-${i}`, [...compose(d), "images", "--format", "json"]),
  );
}

function digests(
  spec: DockerComposeRunner,
  steps: RunnerStep[],
  results: Parameters<typeof okResult>[2],
  prefix: string,
): Map<string, string> {
  const out = new Map<string, string>();
  spec.projects.forEach((d, i) => {
    for (const img of parseComposeImages(
      okResult(spec, steps, results, `${prefix}-${i}`).stdout,
      `docker compose images (${d})`,
    ))
      out.set(located(d, img.container), img.id);
  });
  return out;
}

export const dockerCompose: RunnerPlugin<DockerComposeRunner> = {
  type: "dockerCompose",
  detect: (spec) => [step(spec, "detect", "detect", ["docker", "compose", "version"])],
  applies: (_s, _t, results) => toolAnswers(results),
  list: (spec) => imagesSteps(spec, "images"),
  pending: (spec, _t, results) =>
    [...digests(spec, imagesSteps(spec, "images"), results, "images")].map(([pkg, id]): Change => ({
      package: pkg,
      from: id,
    })),
  hold: () => [],
  apply(spec, _t, pending) {
    const steps: RunnerStep[] = [];
    spec.projects.forEach((d, i) => {
      if (!pending.some((p) => splitLocated(p.package).place === d)) return;
      if (spec.pull) steps.push(step(spec, "apply", `pull-${i}`, [...compose(d), "pull", "--quiet"]));
      steps.push(
        step(spec, "apply", `up-${i}`, [
          ...compose(d),
          "up",
          "-d",
          ...(spec.removeOrphans ? ["--remove-orphans"] : []),
        ]),
      );
    });
    if (spec.prune && steps.length > 0)
      steps.push(step(spec, "apply", "prune", ["docker", "image", "prune", "-f"]));
    return steps;
  },
  release: () => [],
  installed: (spec) => imagesSteps(spec, "installed"),
  changes: (spec, _t, before, after) =>
    versionChanges(before, digests(spec, imagesSteps(spec, "installed"), after, "installed")),
};
