import { unparseable, type ParseContext } from "./errors.js";
import type { RebootFlag } from "./kernels.js";

/** /var/run is /run, a tmpfs: both files vanish on reboot. */
export const REBOOT_REQUIRED_TEST_ARGV = ["test", "-e", "/var/run/reboot-required"] as const;
export const REBOOT_REQUIRED_PKGS_ARGV = ["cat", "/var/run/reboot-required.pkgs"] as const;

/** `test -e` answers with its exit code: 0 present, 1 absent, anything else is not an answer. */
export function parseRebootRequiredTest(exitCode: number, output: string, ctx?: ParseContext): boolean {
  if (exitCode === 0) return true;
  if (exitCode === 1) return false;
  return unparseable(ctx, REBOOT_REQUIRED_TEST_ARGV.join(" "), output, `test exited ${exitCode}`);
}

/** `cat` of the package list; a missing file (exit 1, "No such file or directory") means no packages. */
export function parseRebootRequiredPkgs(exitCode: number, output: string, ctx?: ParseContext): string[] {
  if (exitCode !== 0) {
    if (/No such file or directory/i.test(output)) return [];
    return unparseable(ctx, REBOOT_REQUIRED_PKGS_ARGV.join(" "), output, `cat exited ${exitCode}`);
  }
  return [
    ...new Set(
      output
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l.length > 0),
    ),
  ];
}

export function rebootFlag(required: boolean, packages: readonly string[]): RebootFlag {
  return { required, packages };
}
