/** Writes crds/ from the zod schemas in src/api. A test fails when the committed files differ. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderCrds } from "../src/api/crd.js";

const dir = join(import.meta.dirname, "..", "crds");
mkdirSync(dir, { recursive: true });
const files = renderCrds();
for (const f of readdirSync(dir)) if (f.endsWith(".yaml") && !files.has(f)) rmSync(join(dir, f));
for (const [name, text] of files) writeFileSync(join(dir, name), text);
console.log(`wrote ${files.size} CRDs to ${dir}`);
