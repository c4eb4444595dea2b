import type { Command } from "commander";
import { renderCrdStream } from "../../../src/api/crd.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

export function registerCrds(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("crds")
    .description("Print the CustomResourceDefinitions of every refit.dev kind as YAML")
    .addHelpText("after", "\nExample:\n  refit crds | kubectl apply --server-side -f -")
    .action(() => {
      io.out(renderCrdStream().trimEnd());
      setExit(EXIT.ok);
    });
}
