import type { Command } from "commander";
import { formatIssue, loadDesiredState } from "../../../src/api/loader/load.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

export function registerValidate(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("validate")
    .description(
      "Check a desired-state directory: schemas, references, duplicates and overlapping selections",
    )
    .argument("[dir]", "desired-state directory", "desired-state")
    .option("-o, --output <format>", "text or json", "text")
    .addHelpText(
      "after",
      `
Every problem is reported at once, one per line:
  path/to/file.yaml:LINE:COL: Kind/name spec.field: what is wrong (expected …, got …)

Exit status: 0 when every object is valid, 2 when any problem is found.`,
    )
    .action(async (dir: string, opts: { output: string }) => {
      if (opts.output !== "text" && opts.output !== "json") {
        io.err(`refit validate: --output must be text or json, got ${JSON.stringify(opts.output)}`);
        setExit(EXIT.invalid);
        return;
      }
      const result = await loadDesiredState(dir);
      const valid = result.issues.length === 0;
      if (opts.output === "json") {
        io.out(
          JSON.stringify(
            {
              valid,
              files: result.files,
              objects: result.objects.map((o) => ({ kind: o.kind, name: o.name, source: o.source })),
              issues: result.issues.map((i) => ({ ...i, text: formatIssue(i) })),
            },
            null,
            2,
          ),
        );
      } else {
        for (const issue of result.issues) io.err(formatIssue(issue));
        for (const o of result.objects)
          io.out(`valid  ${o.kind}/${o.name}  (${o.source.file}:${o.source.line})`);
        const files = new Set(result.issues.map((i) => i.file)).size;
        io.out(
          valid
            ? `${dir}: ${result.objects.length} objects in ${result.files.length} files are valid`
            : `${dir}: ${result.issues.length} problem(s) in ${files} file(s); ${result.objects.length} object(s) valid`,
        );
      }
      if (result.files.length === 0 && valid) {
        io.err(`${dir}: no *.yaml or *.yml files found`);
        setExit(EXIT.invalid);
        return;
      }
      setExit(valid ? EXIT.ok : EXIT.invalid);
    });
}
