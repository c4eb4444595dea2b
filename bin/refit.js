#!/usr/bin/env node
// Runs the CLI from the TypeScript sources in a checkout (through tsx), or from dist/ when installed.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../controller/cli/main.ts", import.meta.url);
const built = new URL("../dist/controller/cli/main.js", import.meta.url);

let mod;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import("tsx/esm/api");
  register();
  mod = await import(source.href);
} else {
  mod = await import(built.href);
}
process.exitCode = await mod.main(process.argv);
