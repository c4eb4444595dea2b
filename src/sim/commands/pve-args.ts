/**
 * Option parsing the way PVE's CLI handler does it (Getopt::Long under PVE::RESTHandler): `--opt value`
 * or `--opt=value`, unique prefixes accepted, booleans as 1/0/yes/no/on/off/true/false (a bare
 * `--flag` means 1), and the PVE error texts for bad input (`400 Parameter verification failed.`).
 */

export type OptType = "string" | "bool" | "int" | "number";

export interface ParsedArgs {
  positional: string[];
  opts: Record<string, string | number | boolean>;
}

export class PveArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PveArgError";
  }
}

const TRUE = new Set(["1", "yes", "on", "true"]);
const FALSE = new Set(["0", "no", "off", "false"]);

export function parseBool(v: string): boolean | undefined {
  const l = v.toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  return undefined;
}

/**
 * Parses argv (without the command words). `usage` is printed after errors, as PVE does.
 * Throws PveArgError with the full text to print on stderr (exit 255).
 */
export function parsePveArgs(
  args: readonly string[],
  spec: Record<string, OptType>,
  positionalNames: string[],
  usage: string,
  maxExtra = 0,
): ParsedArgs {
  const opts: ParsedArgs["opts"] = {};
  const positional: string[] = [];
  const names = Object.keys(spec);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const raw = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const exact = names.find((n) => n === raw);
      const candidates = exact ? [exact] : names.filter((n) => n.startsWith(raw));
      if (candidates.length !== 1) {
        throw new PveArgError(
          `${candidates.length > 1 ? `Option ${raw} is ambiguous (${candidates.join(", ")})` : `Unknown option: ${raw}`}\n400 unable to parse option\n${usage}\n`,
        );
      }
      const name = candidates[0]!;
      const type = spec[name]!;
      let value: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
      if (type === "bool") {
        if (value === undefined && args[i + 1] !== undefined && parseBool(args[i + 1]!) !== undefined)
          value = args[++i];
        const b = value === undefined ? true : parseBool(value);
        if (b === undefined)
          throw new PveArgError(
            `400 Parameter verification failed.\n${name}: type check ('boolean') failed - got '${value}'\n${usage}\n`,
          );
        opts[name] = b;
        continue;
      }
      if (value === undefined) {
        value = args[++i];
        if (value === undefined)
          throw new PveArgError(
            `Option ${name} requires an argument\n400 unable to parse option\n${usage}\n`,
          );
      }
      if (type === "int") {
        if (!/^-?\d+$/.test(value))
          throw new PveArgError(
            `400 Parameter verification failed.\n${name}: type check ('integer') failed - got '${value}'\n${usage}\n`,
          );
        opts[name] = Number(value);
      } else if (type === "number") {
        if (Number.isNaN(Number(value)))
          throw new PveArgError(
            `400 Parameter verification failed.\n${name}: type check ('number') failed - got '${value}'\n${usage}\n`,
          );
        opts[name] = Number(value);
      } else opts[name] = value;
      continue;
    }
    positional.push(a);
  }
  if (positional.length < positionalNames.length)
    throw new PveArgError(`400 not enough arguments\n${usage}\n`);
  if (positional.length > positionalNames.length + maxExtra)
    throw new PveArgError(`400 too many arguments\n${usage}\n`);
  return { positional, opts };
}

export function boolOpt(opts: ParsedArgs["opts"], name: string): boolean {
  return opts[name] === true;
}

export function strOpt(opts: ParsedArgs["opts"], name: string): string | undefined {
  const v = opts[name];
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}

export function intOpt(opts: ParsedArgs["opts"], name: string): number | undefined {
  const v = opts[name];
  return typeof v === "number" ? v : undefined;
}

/** Validates a vmid positional the way PVE does. */
export function parseVmid(v: string, usage: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 100 || Number(v) > 999999999)
    throw new PveArgError(
      `400 Parameter verification failed.\nvmid: ${/^\d+$/.test(v) ? `value must have a minimum value of 100` : `type check ('integer') failed - got '${v}'`}\n${usage}\n`,
    );
  return Number(v);
}
