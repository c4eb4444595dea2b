import { readFileSync } from "node:fs";

let cached: string | undefined;

/**
 * `refit/<version>` from the package manifest: two levels up from the sources, three from dist/.
 * Read lazily and once, so importing the module touches no file.
 */
export function userAgent(): string {
  if (cached !== undefined) return cached;
  let version = "unknown";
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === "refit" && typeof pkg.version === "string") {
        version = pkg.version;
        break;
      }
    } catch {
      // Not this level; try the next.
    }
  }
  cached = `refit/${version}`;
  return cached;
}
