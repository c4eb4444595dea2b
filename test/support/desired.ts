import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const EXAMPLE_DIR = join(import.meta.dirname, "..", "..", "desired-state");

/** A fresh copy of the example desired state in a temporary directory. */
export function copyExample(): string {
  const dir = mkdtempSync(join(tmpdir(), "refit-desired-"));
  cpSync(EXAMPLE_DIR, dir, { recursive: true });
  return dir;
}

export function writeYaml(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text.replace(/^\n/, ""));
  return path;
}

export function readExample(name: string): string {
  return readFileSync(join(EXAMPLE_DIR, name), "utf8");
}
