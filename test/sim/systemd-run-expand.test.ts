/** The service manager's expansion of a transient unit's command line (systemd replace_env_argv). */
import { describe, expect, it } from "vitest";
import { expandExecArgv } from "../../src/sim/commands/systemd.js";
import { escapeExecStartArg } from "../../src/ssh/systemd.js";

describe("systemd-run command line expansion", () => {
  it.each<[string, string[], string[]]>([
    ["$$ is a literal $", ["sh", "-c", "echo $$HOME"], ["sh", "-c", "echo $HOME"]],
    ["${NAME} inside a word is its value (empty when unset)", ["a${X}b", "${NOPE}"], ["a1 2b", ""]],
    ["an argument that is exactly $NAME is split", ["cmd", "$X"], ["cmd", "1", "2"]],
    ["an unset $NAME argument disappears", ["cmd", "$NOPE"], ["cmd"]],
    ["$ inside a word, $? and a lone $ stay", ["echo $new", "$?", "$"], ["echo $new", "$?", "$"]],
  ])("%s", (_n, argv, want) => {
    expect(expandExecArgv(argv, { X: "1 2" })).toEqual(want);
  });

  it("undoes exactly what escapeExecStartArg does", () => {
    const script = 'f=/x; names=$(dpkg-query -W -f "${Package}\\n" "$@"); echo $$ $new "$f"';
    expect(expandExecArgv([escapeExecStartArg(script)], {})).toEqual([script]);
  });
});
