/**
 * Bundler and RubyGems text formats:
 * - `bundle outdated --parseable`: `name (newest 2.2.9, installed 2.2.8, requested ~> 2.2)`
 *   (bundler lib/bundler/cli/outdated.rb print_gem, parseable form); exit 1 when outdated.
 * - `bundle list`: `  * name (1.2.3)` or `  * name (1.2.3 abc1234)` for git sources.
 * - `gem outdated`: `name (installed < newest)` (rubygems commands/outdated_command.rb).
 * - `gem list --local`: `name (1.2.3, 1.2.2)` or `name (default: 3.4.1)`, newest first.
 */

export function parseBundleOutdated(text: string): { name: string; from: string; to: string }[] {
  const out: { name: string; from: string; to: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S+) \(newest ([^,)]+), installed ([^,)]+)/.exec(line.trim());
    if (m?.[1] && m[2] && m[3]) out.push({ name: m[1], from: m[3], to: m[2] });
  }
  return out;
}

export function parseBundleList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\* (\S+) \((\S+)/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], m[2].replace(/\)$/, ""));
  }
  return out;
}

export function parseGemOutdated(text: string): { name: string; from: string; to: string }[] {
  const out: { name: string; from: string; to: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S+) \((\S+) < (\S+)\)$/.exec(line.trim());
    if (m?.[1] && m[2] && m[3]) out.push({ name: m[1], from: m[2], to: m[3] });
  }
  return out;
}

export function parseGemList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S+) \((?:default: )?([^,)\s]+)/.exec(line.trim());
    if (m?.[1] && m[2]) out.set(m[1], m[2]);
  }
  return out;
}
