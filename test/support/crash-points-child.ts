/**
 * A tiny process for the crash-point unit tests: writes `writes` files into `dir` through the state
 * directory's atomic writer, then performs `actions` pretend remote actions, logging each step to
 * stdout synchronously (so the log is complete up to the instant the process dies), and says
 * "cleanup" from an exit handler, which a SIGKILL never runs.
 *
 *   node --import tsx test/support/crash-points-child.ts <dir> <writes> <actions>
 */
import { writeSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../controller/runtime/atomic-file.js";
import { beforeRemoteAction } from "../../controller/runtime/crash-points.js";

const [dir = ".", writes = "0", actions = "0"] = process.argv.slice(2);
const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};
process.on("exit", () => say("cleanup"));

for (let i = 1; i <= Number(writes); i++) {
  await writeFileAtomic(join(dir, `file-${i}.json`), `${JSON.stringify({ i })}\n`);
  say(`wrote ${i}`);
}
for (let i = 1; i <= Number(actions); i++) {
  beforeRemoteAction(`action ${i}`);
  say(`acted ${i}`);
}
