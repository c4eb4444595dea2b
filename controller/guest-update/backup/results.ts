/**
 * What a backup step's result means (pure), from the texts pve-guest-common, pve-container,
 * pve-storage and PVE::VZDump print. Retryable: the world may change (a lock, a running task).
 * Terminal: a person must change something. "Done" outcomes let crash-resume treat a repeated
 * step as proven (a snapshot name already used by our own snapshot, a snapshot already deleted).
 */
import { RetryableError, TerminalError, type RefitError } from "../../../src/errors.js";
import { parseVzdumpArchive } from "../../../src/pve/backup.js";

export interface StepResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type StepOutcome =
  | { ok: true; volid?: string; warnings: string[] }
  | { ok: false; retryable: boolean; reason: string; message: string; lock?: string };

const failedWith = (retryable: boolean, reason: string, message: string, lock?: string): StepOutcome => ({
  ok: false,
  retryable,
  reason,
  message,
  ...(lock !== undefined ? { lock } : {}),
});

/** The error text of a failed run: the last non-INFO line (vzdump logs INFO lines on stderr). */
function errorText(r: StepResult): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("INFO: "));
  return (
    lines.find((l) => /ERROR:|failed|unable|can't|is locked|does not|not available|already/.test(l)) ??
    lines[lines.length - 1] ??
    `exit ${r.exitCode}`
  );
}

/** Failures common to every guest command: a lock, a missing or running container. */
function common(r: StepResult, what: string, vmid: number): StepOutcome | undefined {
  const text = `${r.stderr}\n${r.stdout}`;
  const lock = /(?:CT|VM) is locked \(([\w-]+)\)/.exec(text)?.[1];
  if (lock !== undefined)
    return failedWith(
      true,
      "Locked",
      `${what} of CT ${vmid} waits: the container is locked (${lock}) by another operation`,
      lock,
    );
  if (/Configuration file '.*' does not exist|unable to find configuration file/.test(text))
    return failedWith(
      true,
      "GuestNotFound",
      `${what}: CT ${vmid} is not on this node (migrated?); it is looked up again`,
    );
  if (/cluster not ready - no quorum/.test(text))
    return failedWith(true, "NoQuorum", `${what} of CT ${vmid} waits: the cluster has no quorum`);
  return undefined;
}

export function snapshotOutcome(r: StepResult, vmid: number, name: string): StepOutcome {
  if (r.exitCode === 0) return { ok: true, warnings: [] };
  const text = `${r.stderr}\n${r.stdout}`;
  const c = common(r, `snapshot ${name}`, vmid);
  if (c) return c;
  if (text.includes("snapshot feature is not available"))
    return failedWith(
      false,
      "SnapshotUnsupported",
      `CT ${vmid} cannot be snapshotted (a volume's storage has no snapshot support); set backup.fallbackStorage or use mode vzdump`,
    );
  if (text.includes(`snapshot name '${name}' already used`))
    return failedWith(
      false,
      "SnapshotExists",
      `snapshot ${name} of CT ${vmid} already exists: prove from listsnapshot whether it is this update's`,
    );
  return failedWith(true, "SnapshotFailed", `snapshot ${name} of CT ${vmid} failed: ${errorText(r)}`);
}

export function deleteSnapshotOutcome(r: StepResult, vmid: number, name: string): StepOutcome {
  if (r.exitCode === 0) return { ok: true, warnings: [] };
  const text = `${r.stderr}\n${r.stdout}`;
  // Already gone (a delete that finished before a crash): what retention wanted.
  if (text.includes(`snapshot '${name}' does not exist`))
    return { ok: true, warnings: [`snapshot ${name} was already deleted`] };
  const c = common(r, `deleting snapshot ${name}`, vmid);
  if (c) return c;
  if (/needed by replication job/.test(text))
    return failedWith(
      true,
      "ReplicationNeedsSnapshot",
      `snapshot ${name} of CT ${vmid} is needed by a replication job; it is pruned after the next replication`,
    );
  return failedWith(true, "PruneFailed", `deleting snapshot ${name} of CT ${vmid} failed: ${errorText(r)}`);
}

export function vzdumpOutcome(r: StepResult, vmid: number, storage: string): StepOutcome {
  const text = `${r.stdout}\n${r.stderr}`;
  if (r.exitCode === 0) {
    const warnings = [...text.matchAll(/WARN: (unable to add notes - .*)/g)].map(
      (m) => `${m[1]}: the archive is recorded in status, but retention will not recognise it by its notes`,
    );
    try {
      return { ok: true, volid: parseVzdumpArchive(text, storage).volid, warnings };
    } catch {
      return failedWith(
        true,
        "BackupUnproven",
        `vzdump of CT ${vmid} to ${storage} exited 0 but named no archive; the storage is listed to find it`,
      );
    }
  }
  const lock = /Backup of VM \d+ failed - (?:CT|VM) is locked \(([\w-]+)\)/.exec(text)?.[1];
  if (lock !== undefined)
    return failedWith(true, "Locked", `vzdump of CT ${vmid} waits: the container is locked (${lock})`, lock);
  const c = common(r, "vzdump", vmid);
  if (c) return c;
  if (/storage '.*' does not exist|does not support backup content/.test(text))
    return failedWith(
      false,
      "BackupStorageInvalid",
      `vzdump of CT ${vmid}: ${errorText(r)}; fix backup.storage / backup.fallbackStorage`,
    );
  const failed = /Backup of VM \d+ failed - (.*)/.exec(text)?.[1];
  return failedWith(
    true,
    "BackupFailed",
    `vzdump of CT ${vmid} to ${storage} failed: ${failed ?? errorText(r)}`,
  );
}

export function rollbackOutcome(r: StepResult, vmid: number, name: string): StepOutcome {
  if (r.exitCode === 0) return { ok: true, warnings: [] };
  const text = `${r.stderr}\n${r.stdout}`;
  const c = common(r, `rollback to ${name}`, vmid);
  if (c) return c;
  if (text.includes(`snapshot '${name}' does not exist`))
    return failedWith(
      false,
      "SnapshotMissing",
      `rollback of CT ${vmid}: snapshot ${name} no longer exists; restore from another backup by hand (refit rollback --to)`,
    );
  if (/is not most recent snapshot/.test(text))
    return failedWith(
      false,
      "RollbackBlocked",
      `rollback of CT ${vmid} to ${name} refused: ${errorText(r)} (ZFS rolls back only to the newest snapshot; delete the newer ones by hand first)`,
    );
  return failedWith(true, "RollbackFailed", `rollback of CT ${vmid} to ${name} failed: ${errorText(r)}`);
}

export function restoreOutcome(r: StepResult, vmid: number, volid: string): StepOutcome {
  if (r.exitCode === 0) return { ok: true, warnings: [] };
  const text = `${r.stderr}\n${r.stdout}`;
  const c = common(r, `restore from ${volid}`, vmid);
  if (c) return c;
  if (text.includes("can't overwrite running container"))
    return failedWith(
      true,
      "GuestRunning",
      `restore of CT ${vmid} refused: the container is running; it is stopped first`,
    );
  if (/volume '.*' does not exist|does not exist/.test(text))
    return failedWith(
      false,
      "ArchiveMissing",
      `restore of CT ${vmid}: archive ${volid} no longer exists; restore from another backup by hand`,
    );
  return failedWith(true, "RestoreFailed", `restore of CT ${vmid} from ${volid} failed: ${errorText(r)}`);
}

export function freeOutcome(r: StepResult, volid: string): StepOutcome {
  if (r.exitCode === 0) return { ok: true, warnings: [] };
  const text = `${r.stderr}\n${r.stdout}`;
  if (/does not exist|No such file/.test(text))
    return { ok: true, warnings: [`archive ${volid} was already removed`] };
  if (/cannot remove protected volume|is protected/.test(text))
    return failedWith(
      false,
      "ArchiveProtected",
      `archive ${volid} is protected; unprotect it to let retention remove it`,
    );
  return failedWith(true, "PruneFailed", `removing archive ${volid} failed: ${errorText(r)}`);
}

/** A failed outcome as the typed error reconcilers act on (retried with backoff, or terminal). */
export function outcomeError(
  o: Extract<StepOutcome, { ok: false }>,
  context: Record<string, string | number> = {},
): RefitError {
  const ctx = { ...context, ...(o.lock !== undefined ? { lock: o.lock } : {}) };
  return o.retryable
    ? new RetryableError(o.reason, o.message, ctx)
    : new TerminalError(o.reason, o.message, ctx);
}
