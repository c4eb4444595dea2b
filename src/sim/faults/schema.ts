import { z } from "zod";

/**
 * Faults the simulator can inject, declared in the fleet file (`faults:`) or added at run time via
 * `handle.faults.add(...)`. Each kind names the real error text it produces, so tests can assert
 * that the controller recognises what real Proxmox/Debian prints.
 *
 * `match` selects commands: a substring of the simple command's argv joined by spaces, or a regular
 * expression written `/…/`. `host` limits a fault to one SSH host (node or VM host name).
 * `times` makes it fire that many times and then disappear.
 */

const match = z.string().min(1);
const host = z.string().min(1);
const common = { id: z.string().optional(), times: z.number().int().positive().optional() };

export const faultSpecSchema = z.discriminatedUnion("kind", [
  /** The SSH connection is torn down (TCP reset, no exit status) while the matching command runs. */
  z.strictObject({
    kind: z.literal("dropConnection"),
    host: host.optional(),
    match,
    afterSeconds: z.number().nonnegative().default(0),
    ...common,
  }),
  /** The matching command never finishes (until its channel or unit is closed). */
  z.strictObject({ kind: z.literal("hang"), host: host.optional(), match, ...common }),
  /** The matching command prints the given text and exits with the given code instead of running. */
  z.strictObject({
    kind: z.literal("exit"),
    host: host.optional(),
    match,
    exitCode: z.number().int().min(0).max(255),
    stdout: z.string().default(""),
    stderr: z.string().default(""),
    ...common,
  }),
  /**
   * Another process holds the dpkg/apt locks. apt-get prints
   * `E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)` and
   * `E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?`
   * (apt-get update: `E: Could not get lock /var/lib/apt/lists/lock. …` / `E: Unable to lock directory /var/lib/apt/lists/`), exit 100.
   * Root's `apt-get -s` takes the lock as well; `-o DPkg::Lock::Timeout=N` waits up to N seconds for it.
   */
  z.strictObject({
    kind: z.literal("aptLock"),
    host,
    holder: z.string().default("unattended-upgr"),
    pid: z.number().int().positive().default(4242),
    /** The holder lets go this many (simulated) seconds after the fault is added; forever without it. */
    forSeconds: z.number().positive().optional(),
    ...common,
  }),
  /**
   * dpkg was interrupted: apt-get install/dist-upgrade print
   * `E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. ` and exit 100
   * until `dpkg --configure -a` runs.
   */
  z.strictObject({ kind: z.literal("dpkgInterrupted"), host, ...common }),
  /**
   * The root file system is full: `df` shows 100%, dist-upgrade prints
   * `E: You don't have enough free space in /var/cache/apt/archives/.` and exits 100.
   */
  z.strictObject({ kind: z.literal("diskFull"), host, ...common }),
  /**
   * The package repository fails. `unreachable`: apt-get update prints `Err:…  Temporary failure resolving
   * 'download.proxmox.com'` and `W: Failed to fetch …` / `W: Some index files failed to download. They have
   * been ignored, or old ones used instead.` and still exits 0 (as real apt does); dist-upgrade downloads fail
   * with `E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?` (exit 100).
   * `unauthorized`: `E: Failed to fetch https://enterprise.proxmox.com/… 401  Unauthorized [IP: …]`, exit 100.
   */
  z.strictObject({
    kind: z.literal("repoFailure"),
    host,
    mode: z.enum(["unreachable", "unauthorized"]).default("unreachable"),
    ...common,
  }),
  /** The host goes down on its next reboot and never comes back: connections are refused, `online:0`. */
  z.strictObject({ kind: z.literal("neverReturns"), host, ...common }),
  /**
   * While `rebooting` is down for a reboot, `host` loses power: no shutdown (its guests die with it),
   * SSH refused, `online:0` in /cluster/status and out of corosync's membership, so a three-node
   * cluster is left with one vote of three (`Quorate: No`, `Activity blocked`). It powers on again
   * after `downSeconds`, or stays down.
   */
  z.strictObject({
    kind: z.literal("crashWhileRebooting"),
    host,
    rebooting: host,
    downSeconds: z.number().positive().optional(),
    ...common,
  }),
  /** The host's next reboot takes `extraSeconds` longer than its reboot time. */
  z.strictObject({ kind: z.literal("slowReturn"), host, extraSeconds: z.number().positive(), ...common }),
  /**
   * Corosync loses quorum although the nodes run: `/cluster/status` `quorate:0`, `pvecm status`
   * `Quorate: No` with `Activity blocked`, and writes fail with `cluster not ready - no quorum?` (exit 255).
   */
  z.strictObject({ kind: z.literal("quorumLoss"), cluster: z.string().min(1), ...common }),
  /**
   * A migration fails mid-way (matching vmid and/or target, any when omitted). The task log prints
   * `ERROR: online migrate failure - <message>` (offline/restart: `ERROR: migration aborted (duration …): <message>`),
   * ends with `migration problems` / `migration aborted`, and the command exits 255; the guest stays on its node.
   */
  z.strictObject({
    kind: z.literal("migrationFailure"),
    vmid: z.number().int().optional(),
    target: z.string().optional(),
    message: z.string().default("migration status error: failed"),
    ...common,
  }),
  /** A container's health endpoint fails: HTTP 500, connection refused, or no answer at all. */
  z.strictObject({
    kind: z.literal("healthFailing"),
    vmid: z.number().int(),
    endpoint: z.string().optional(),
    mode: z.enum(["http500", "refused", "timeout"]).default("http500"),
    ...common,
  }),
  /**
   * The guest ignores shutdown requests (no ACPI handling, no guest agent; a CT whose init ignores
   * SIGPWR): it never shuts down gracefully, so only a hard stop ends it.
   * - `qm shutdown <vmid> [--timeout N]` (default 60): waits N s, fails with
   *   `VM quit/powerdown failed - got timeout` (exit 255), the VM keeps running; with `--forceStop 1`
   *   prints `VM still running - terminating now with SIGTERM` and stops it (exit 0).
   *   `qm reboot` fails the same way (it never forces).
   * - `pct shutdown <vmid> [--timeout N]` (default 60): `lxc-stop --nokill` gives up after N s
   *   (`command 'lxc-stop -n <vmid> --nokill --timeout N' failed: exit code 1`), pct waits N+5 s more
   *   and fails with `container did not stop` (exit 255); with `--forceStop 1` lxc-stop kills it at
   *   N s (exit 0). `pct migrate --restart` (timeout 180, never forced) aborts with
   *   `migration aborted (duration …): container did not stop`.
   * - A node shutdown/reboot: `stopall` gives each guest 180 s, then hard-stops it; HA's own stop
   *   gives a VM 60 s then hard-stops it, a CT 60 s (+65) without forcing.
   */
  z.strictObject({ kind: z.literal("ignoresShutdown"), vmid: z.number().int(), ...common }),
  /** The guest's storage cannot snapshot: `snapshot feature is not available` (exit 255). */
  z.strictObject({ kind: z.literal("snapshotUnsupported"), vmid: z.number().int(), ...common }),
  /**
   * A service is failed: `systemctl is-active` prints `failed` (exit 3); inside a container the health
   * endpoints that need it go down. With `onRestart`, the service fails the next time it is (re)started.
   */
  z.strictObject({
    kind: z.literal("serviceFailed"),
    host: host.optional(),
    vmid: z.number().int().optional(),
    service: z.string().min(1),
    onRestart: z.boolean().default(false),
    ...common,
  }),
]);

export type FaultSpec = z.output<typeof faultSpecSchema>;
export type FaultInput = z.input<typeof faultSpecSchema>;
export type FaultKind = FaultSpec["kind"];
