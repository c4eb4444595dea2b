/**
 * The refit CLI compiled once into a single ESM file, for suites that start the controller process
 * over a hundred times (test/e2e/crash-points.test.ts). Through bin/refit.js every start registers
 * tsx and resolves and transforms a few hundred source modules (about 1 s of CPU on the 2-core CI
 * machine, twice per crash run); the bundle starts in about 0.3 s.
 *
 * It is the same sources compiled by the same compiler tsx uses (esbuild, a dependency of tsx), with
 * the same entry as bin/refit.js (`process.exitCode = await main(process.argv)`). Packages stay
 * external, loaded from node_modules as usual. Each source file's `import.meta.url` and
 * `import.meta.dirname` are replaced by that file's own values, so a file found relative to its
 * module (package.json, by the CLI and the notifier's User-Agent) is found as it is from source.
 *
 * The bundle lives under node_modules/.cache (ignored by git), in a directory of its own per call,
 * so parallel suites (Node 20 and Node 24 in CI) never share one; `remove()` deletes it, and the
 * next call sweeps those left by test processes that no longer run.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = join(import.meta.dirname, "..", "..");

export interface ControllerBundle {
  /** The script to run with node, in place of bin/refit.js. */
  entry: string;
  remove(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the bundles of test processes that ended without removing theirs (killed, timed out). */
function sweepStale(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid))
      rmSync(join(base, name), { recursive: true, force: true });
  }
}

export async function bundleController(): Promise<ControllerBundle> {
  const { build } = await import("esbuild");
  const base = join(ROOT, "node_modules", ".cache", "refit-controller-bundle");
  sweepStale(base);
  const dir = join(base, `${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, "refit.mjs");
  try {
    await build({
      stdin: {
        contents: `import { main } from "./controller/cli/main.ts";\nprocess.exitCode = await main(process.argv);\n`,
        resolveDir: ROOT,
        sourcefile: "refit-bundle-entry.ts",
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: `node${process.versions.node.split(".")[0] ?? "20"}`,
      packages: "external",
      outfile: entry,
      logLevel: "warning",
      plugins: [
        {
          name: "keep-import-meta-of-each-source",
          setup(b) {
            b.onLoad({ filter: /\.ts$/ }, async (args) => {
              const text = (await readFile(args.path, "utf8"))
                .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
                .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)));
              return { contents: text, loader: "ts" };
            });
          },
        },
      ],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { entry, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
