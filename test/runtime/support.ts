/**
 * Helpers for the runtime tests: real temporary directories, a logger that records lines, a watch
 * recorder with bounded waits, and small valid desired-state documents.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { RefitObjectOf } from "../../src/api/kinds.js";
import type { Logger } from "../../src/log/logger.js";
import type { ObjectStore, WatchEvent } from "../../controller/runtime/store.js";

const run = promisify(execFile);

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

export interface RecordingLogger extends Logger {
  lines: LogLine[];
}

export function recordingLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): RecordingLogger {
  const at =
    (level: LogLine["level"]) =>
    (a: Record<string, unknown> | string, msg?: string): void => {
      if (typeof a === "string") lines.push({ level, msg: a, fields: { ...bindings } });
      else lines.push({ level, msg: msg ?? "", fields: { ...bindings, ...a } });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (b) => recordingLogger(lines, { ...bindings, ...b }),
  };
}

export interface TempDirs {
  desired: string;
  state: string;
  remove(): Promise<void>;
}

export async function tempDirs(): Promise<TempDirs> {
  const root = await mkdtemp(join(tmpdir(), "refit-runtime-"));
  const desired = join(root, "desired");
  const state = join(root, "state");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(desired);
  return { desired, state, remove: () => rm(root, { recursive: true, force: true }) };
}

export async function write(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Polls `check` until it returns a value (not undefined), failing after `ms` of real time. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lets every already-resolved promise chain run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Records watch events and waits, boundedly, for one that matches. */
export class EventRecorder {
  readonly events: WatchEvent[] = [];
  private waiters: { match: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void }[] = [];
  readonly stop: () => void;

  constructor(store: ObjectStore) {
    this.stop = store.watch((e) => {
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.match(e)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(e);
        }
      }
    });
  }

  /** The first event after now that matches, or a failure after `ms` of real time. */
  next(what: string, match: (e: WatchEvent) => boolean, ms = 5000): Promise<WatchEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no ${what} event within ${ms} ms; saw: ${this.summary()}`));
      }, ms);
      const done = (e: WatchEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  summary(): string {
    return (
      this.events.map((e) => `${e.type} ${e.object.kind}/${e.object.metadata.name}`).join(", ") || "nothing"
    );
  }
}

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    "git",
    [
      "-C",
      dir,
      "-c",
      "user.name=Refit Test",
      "-c",
      "user.email=test@refit.invalid",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    { timeout: 20_000 },
  );
  return stdout.trim();
}

export const CLUSTER_YAML = `# the cluster
apiVersion: refit.dev/v1alpha1
kind: ProxmoxCluster
metadata:
  name: lab
spec:
  endpoints:
    - node: pve1
      host: 127.0.0.1
  ssh:
    user: root
    privateKey:
      file: /etc/refit/id
    knownHosts:
      file: /etc/refit/known_hosts
`;

export function planYaml(
  opts: { name?: string; nodes?: string; labels?: Record<string, string>; suspend?: boolean } = {},
): string {
  const labels = opts.labels
    ? `  labels:\n${Object.entries(opts.labels)
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
        .join("\n")}\n`
    : "";
  return `apiVersion: refit.dev/v1alpha1
kind: HostPatchPlan
metadata:
  name: ${opts.name ?? "nodes"}
${labels}spec:
  clusterRef:
    name: lab
  profile: pve
  targets:
    nodes: ["${opts.nodes ?? "pve*"}"]
${opts.suspend ? "  suspend: true\n" : ""}`;
}

export function hostPatch(
  name: string,
  plan?: RefitObjectOf<"HostPatchPlan">,
  extra: { labels?: Record<string, string>; finalizers?: string[] } = {},
): RefitObjectOf<"HostPatch"> {
  return {
    apiVersion: "refit.dev/v1alpha1",
    kind: "HostPatch",
    metadata: {
      name,
      labels: extra.labels ?? (plan ? { "refit.dev/plan": plan.metadata.name } : undefined),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      ...(plan
        ? {
            ownerReferences: [
              {
                apiVersion: "refit.dev/v1alpha1",
                kind: "HostPatchPlan",
                name: plan.metadata.name,
                uid: plan.metadata.uid ?? "",
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { planRef: { name: plan?.metadata.name ?? "nodes" }, host: "pve1", profile: "pve", cycle: "c1" },
  };
}
