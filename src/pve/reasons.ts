/**
 * The `reason` values src/pve errors and unavailable observations carry. Reconcilers put them on
 * conditions and gates quote them, so they are part of the interface.
 */
export const PveReason = {
  /** Retryable: a remote command printed something the parser does not understand; the gate stays closed. */
  UnparseableOutput: "UnparseableOutput",
  /** Retryable: a remote command exited non-zero for a reason not classified more precisely. */
  CommandFailed: "CommandFailed",
  /** Terminal: the remote shell could not find the command (exit 127). */
  CommandMissing: "CommandMissing",
  /** Retryable: a Proxmox or dpkg/apt lock is held by someone else. */
  LockHeld: "LockHeld",
  /**
   * Retryable: apt refuses to work because a dpkg run was cut off (`E: dpkg was interrupted, you must
   * manually run 'dpkg --configure -a' to correct the problem.`); root's `apt-get -s` refuses too.
   */
  DpkgInterrupted: "DpkgInterrupted",
  /** Retryable: the guest's config carries a lock (`VM 100 is locked (backup)`). */
  GuestLocked: "GuestLocked",
  /** Retryable: the command was ended by a signal (no exit code). */
  CommandKilled: "CommandKilled",
  /** Retryable: a batched exec reply lacks a step's end marker: the output was cut off. */
  BatchTruncated: "BatchTruncated",
  /**
   * Retryable: `apt-get update` could not fetch an index (it still exits 0, keeping the old lists), so
   * the pending list would be stale: a node could look up to date when it is not.
   */
  RepositoryUnreachable: "RepositoryUnreachable",
  /**
   * Retryable: the cluster is not ready for the command: a service it needs was restarting (pmxcfs after a pve-cluster
   * upgrade: `ipcc_send_rec[1] failed: Connection refused`; the node outside corosync's membership
   * after a corosync restart: `cluster not ready - no quorum?`; a proxied API call: `595`).
   */
  ClusterNotReady: "ClusterNotReady",
  /** Terminal: an argument (node, vmid, storage, snapshot name, unit) is not a valid value. */
  InvalidArgument: "InvalidArgument",
} as const;

export type PveReason = (typeof PveReason)[keyof typeof PveReason];
