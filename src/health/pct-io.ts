/**
 * ProbeIo over SSH for the guest update flow: http and tcp from the controller, exec through
 * `pct exec <vmid> -- argv` on the node hosting the container. A probe's exec is short and
 * read-only, so it runs as a plain command with its own timeout, not as a remote job.
 */
import type { Clock } from "../clock.js";
import { pctExecArgv } from "../pve/guest-exec.js";
import type { HostExec } from "../ssh/types.js";
import type { ProbeIo } from "./contract.js";
import { controllerProbeIo } from "./local-io.js";

/** Output kept from a probe command; health checks print little. */
const PROBE_OUTPUT_MAX = 256 * 1024;

export function pctProbeExec(node: HostExec, vmid: number): ProbeIo["exec"] {
  return async (argv, timeoutMs) => {
    const r = await node.exec(pctExecArgv(vmid, argv), { timeoutMs, maxOutputBytes: PROBE_OUTPUT_MAX });
    // Ended by a signal: report it like timeout(1) would, so the attempt fails with a reason.
    if (r.exitCode === null)
      return { exitCode: 124, stdout: r.stdout, stderr: `${r.stderr}killed by signal ${r.signal ?? "?"}\n` };
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
}

/** The ProbeIo for one container: probes from the controller, commands inside through its node. */
export function containerProbeIo(clock: Clock, node: HostExec, vmid: number): ProbeIo {
  return controllerProbeIo(clock, pctProbeExec(node, vmid));
}
