/**
 * Default timeouts (milliseconds) for remote commands. Every exec src/pve makes passes one of these
 * (or the caller's override): a hung pvesh or a stuck NFS mount must not hang a reconcile.
 */
export const PveTimeouts = {
  /** Quick local reads: cat, uname, test, df, systemctl is-*. */
  quick: 15_000,
  /** pvesh/pvecm/qm/pct reads that go through pmxcfs or the API. */
  api: 30_000,
  /** `zpool status -x` can block on a sick pool. */
  zpool: 30_000,
  /** `apt-get -s dist-upgrade` resolves the whole dependency graph. */
  aptSimulate: 120_000,
  /** A whole observeNode / observeCluster batch. */
  batch: 60_000,
  /** A batch that also simulates the upgrade. */
  batchWithApt: 180_000,
  /** `apt-get update` downloads indexes. */
  aptUpdate: 600_000,
  /** ha-manager commands only queue a request. */
  haCommand: 30_000,
  /** Starting/stopping/rebooting a guest (the CLI waits for it). */
  guestPower: 600_000,
  /** Snapshot create/delete/rollback. */
  snapshot: 900_000,
  /** One live/restart migration (includes local disk copies). */
  migrate: 4 * 3_600_000,
  /** vzdump / restore of one guest. */
  backup: 6 * 3_600_000,
  /** `pct exec` when the caller gives nothing more specific. */
  pctExec: 600_000,
} as const;

/** Output bound for commands whose output we parse; a bigger reply is treated as unreadable. */
export const MAX_PARSED_OUTPUT_BYTES = 8 * 1024 * 1024;
