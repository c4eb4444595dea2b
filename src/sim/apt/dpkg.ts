import type { CommandContext } from "../commands/types.js";
import { configure } from "./apt-get.js";
import { dpkgLockError, lockHolder } from "./lock.js";
import { aptTarget, type AptTarget } from "./target.js";

/**
 * `dpkg --audit` as dpkg 1.21.22 prints it (src/main/enquiry.c `audit`): one paragraph per kind of
 * problem, each package as \` %-20s %.*s\` with its synopsis, exit 0 whatever it finds. The simulator
 * knows one kind: packages unpacked by a cut-off run and not configured yet.
 */
function audit(ctx: CommandContext, t: AptTarget): string {
  const names = Object.keys(t.apt.unpacked).sort();
  if (names.length === 0) return "";
  let out = "";
  if (lockHolder(ctx.sim, t))
    out +=
      "Another process has locked the database for writing, and might currently be\nmodifying it, some of the following problems might just be due to that.\n\n";
  out +=
    "The following packages have been unpacked but not yet configured.\nThey must be configured using dpkg --configure or the configure\nmenu option in dselect for them to work:\n";
  for (const n of names) {
    const synopsis = synopsisOf(n).slice(0, Math.max(0, 57 - Math.max(0, n.length - 20)));
    out += ` ${n.padEnd(20)} ${synopsis}\n`;
  }
  return `${out}\n`;
}

function synopsisOf(name: string): string {
  if (name.startsWith("proxmox-kernel-")) return "Proxmox Kernel Image (signed)";
  if (name === "pve-manager") return "Proxmox Virtual Environment Management Tools";
  return `${name} package`;
}

/** `dpkg --configure -a` (finishes an interrupted run), `dpkg --audit` and `dpkg -l`. */
export async function dpkg(ctx: CommandContext): Promise<number> {
  const t = aptTarget(ctx.sim, ctx.place);
  if (!t) return 127;
  const args = ctx.argv.slice(1);
  if (args[0] === "--configure" && (args[1] === "-a" || args[1] === "--pending")) {
    const holder = lockHolder(ctx.sim, t);
    if (holder) {
      ctx.err(dpkgLockError(holder));
      return 2;
    }
    t.apt.lockHolder = { pid: ctx.pid, name: "dpkg" };
    try {
      for (const name of Object.keys(t.apt.unpacked).sort()) {
        ctx.out(`Setting up ${name} (${t.apt.unpacked[name]!.version}) ...\n`);
        await ctx.sim.sleep(ctx.sim.timing.aptPackageSeconds * 0.4, ctx.signal);
        configure(ctx, t, name);
      }
      t.apt.dpkgInterrupted = false;
      const fixed = ctx.sim.faults.find("dpkgInterrupted", (f) => f.host === t.faultHost);
      if (fixed) ctx.sim.faults.remove(fixed.id);
      return 0;
    } finally {
      t.apt.lockHolder = undefined;
    }
  }
  if (args[0] === "--audit" || args[0] === "-C") {
    ctx.out(audit(ctx, t));
    return 0;
  }
  if (args[0] === "-l" || args[0] === "--list") {
    const pats = args.slice(1);
    let out =
      "Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n||/ Name                            Version                Architecture Description\n+++-===============================-======================-============-=================================\n";
    const rows = [
      ...Object.entries(t.apt.installed).map(([n, r]) => [held(t, n) ? "hi" : "ii", n, r] as const),
      ...Object.entries(t.apt.unpacked).map(([n, r]) => ["iU", n, r] as const),
    ];
    for (const [st, n, r] of rows.sort((a, b) => a[1].localeCompare(b[1]))) {
      if (pats.length > 0 && !pats.some((p) => glob(p).test(n))) continue;
      out += `${st}  ${n.padEnd(31)} ${r.version.padEnd(22)} ${r.arch.padEnd(12)} ${n}\n`;
    }
    ctx.out(out);
    return 0;
  }
  ctx.err(
    "dpkg: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];\n",
  );
  return 2;
}

function held(t: AptTarget, name: string): boolean {
  return t.apt.holds?.includes(name) === true;
}

function glob(p: string): RegExp {
  return new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".")}$`,
  );
}

function unescape(fmt: string): string {
  return fmt.replace(/\\([nt\\])/g, (_m, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : "\\"));
}

/** `dpkg-query -W [-f=FORMAT] [pattern...]` with `${Package}`, `${Version}`, `${Status}`, `${db:Status-Abbrev}`… */
export function dpkgQuery(ctx: CommandContext): number {
  const t = aptTarget(ctx.sim, ctx.place);
  if (!t) return 127;
  const args = ctx.argv.slice(1);
  let show = false;
  let format = "${binary:Package}\t${Version}\n";
  const pats: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-W" || a === "--show") show = true;
    else if (a === "-f" || a === "--showformat") format = args[++i] ?? "";
    else if (a.startsWith("-f=")) format = a.slice(3);
    else if (a.startsWith("--showformat=")) format = a.slice("--showformat=".length);
    else if (a.startsWith("-f")) format = a.slice(2);
    else if (a === "-l" || a === "--list") show = false;
    else pats.push(a);
  }
  if (!show) {
    ctx.err("dpkg-query: error: need an action option\n\nUse --help for help about querying packages.\n");
    return 2;
  }
  format = unescape(format);
  const entries = [
    ...Object.entries(t.apt.installed).map(([n, r]) => ({
      n,
      r,
      status: held(t, n) ? "hold ok installed" : "install ok installed",
      abbrev: held(t, n) ? "hi " : "ii ",
    })),
    ...Object.entries(t.apt.unpacked)
      .filter(([n]) => !t.apt.installed[n])
      .map(([n, r]) => ({ n, r, status: "install ok unpacked", abbrev: "iU " })),
  ].sort((a, b) => a.n.localeCompare(b.n));
  let status = 0;
  const selected = pats.length === 0 ? entries : entries.filter((e) => pats.some((p) => glob(p).test(e.n)));
  for (const p of pats) {
    if (!entries.some((e) => glob(p).test(e.n))) {
      ctx.err(`dpkg-query: no packages found matching ${p}\n`);
      status = 1;
    }
  }
  for (const e of selected) {
    ctx.out(
      format.replace(/\$\{([A-Za-z:-]+)(?:;(-?\d+))?\}/g, (_m, field: string, width?: string) => {
        let v = "";
        if (field === "Package" || field === "binary:Package") v = e.n;
        else if (field === "Version") v = e.r.version;
        else if (field === "Architecture") v = e.r.arch;
        else if (field === "Status") v = e.status;
        else if (field === "db:Status-Abbrev") v = e.abbrev;
        else if (field === "db:Status-Status") v = e.status.split(" ")[2] ?? "";
        else if (field === "db:Status-Want") v = e.status.split(" ")[0] ?? "";
        else if (field === "Source") v = e.n;
        if (width !== undefined) {
          const w = Number(width);
          v = w < 0 ? v.padEnd(-w) : v.padStart(w);
        }
        return v;
      }),
    );
  }
  return status;
}
