import type { CustomCommandsSpec } from "../../api/guest-policy.js";

/**
 * Whether a custom command may run: custom commands must be enabled in the policy and argv[0] must
 * be an absolute path on its allowlist (exact match: a bare name would be found through PATH, which
 * the container controls). The flow calls this for custom runner steps and for hooks alike.
 */
export interface CustomCommand {
  name: string;
  /** A hook's command. */
  argv?: readonly string[];
  /** A custom runner step's commands. */
  apply?: readonly string[];
  checkPending?: readonly string[] | undefined;
}

export function customRefusal(step: CustomCommand, customCommands: CustomCommandsSpec): string | undefined {
  const commands = [step.argv, step.checkPending, step.apply].filter(
    (a): a is readonly string[] => a !== undefined,
  );
  if (!customCommands.enabled)
    return (
      `Custom command "${step.name}" was refused: custom commands are disabled for this container. ` +
      `Set customCommands.enabled: true and list its binary under customCommands.allowlist in the plan.`
    );
  for (const argv of commands) {
    const bin = argv[0] ?? "";
    if (!bin.startsWith("/"))
      return (
        `Custom command "${step.name}" was refused: its program "${bin}" is not an absolute path, so it cannot ` +
        `be checked against the allowlist. Write the full path (e.g. /usr/bin/${bin}) and add it to customCommands.allowlist.`
      );
    if (!customCommands.allowlist.includes(bin))
      return (
        `Custom command "${step.name}" was refused: ${bin} is not on customCommands.allowlist ` +
        `(${customCommands.allowlist.length > 0 ? customCommands.allowlist.join(", ") : "empty"}). Add it there to allow it.`
      );
  }
  return undefined;
}
