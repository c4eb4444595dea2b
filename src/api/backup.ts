import { z } from "zod";
import { withRules } from "./cel.js";
import { duration } from "./primitives.js";

export const backupMode = z.enum(["snapshot", "vzdump", "none"]);
export type BackupMode = z.infer<typeof backupMode>;

/** Proxmox storage id (`pve-storage-id`). */
export const storageId = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z][A-Za-z0-9_.-]*$/,
    "must be a Proxmox storage id: a letter, then letters, digits, '_', '-', '.'",
  );

export const retentionSpec = z
  .strictObject({
    keepLast: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe("Refit backups kept per guest; older ones are pruned after a successful update"),
    maxAge: duration.optional().describe("Refit backups older than this are pruned, even within keepLast"),
  })
  .describe(
    "Pruning of backups Refit made (named refit-<plan>-<timestamp>); other backups are never touched",
  );
export type RetentionSpec = z.infer<typeof retentionSpec>;

/** What is saved before a guest is changed, so that a failed update can be rolled back. */
export const backupSpec = withRules(
  z.strictObject({
    mode: backupMode
      .default("snapshot")
      .describe(
        "snapshot: pct snapshot (fast, needs snapshot-capable storage); vzdump: full backup to a storage; " +
          "none: no backup, so no rollback either",
      ),
    storage: storageId
      .optional()
      .describe("Storage the vzdump archive is written to; required with mode vzdump, refused otherwise"),
    fallbackStorage: storageId
      .optional()
      .describe(
        "mode snapshot: when the container cannot be snapshotted (a mount point or volume on storage " +
          "without snapshot support), a vzdump --mode snapshot to this storage is taken instead; without " +
          "it such a container is Blocked. Ignored with mode vzdump (the archive goes to storage); refused with none",
      ),
    retention: retentionSpec.prefault({}),
    includeRam: z
      .boolean()
      .default(false)
      .describe("qemu only: save the RAM state with the snapshot; ignored for containers"),
  }),
  [
    {
      rule: "!has(self.mode) || self.mode != 'vzdump' || has(self.storage)",
      message: "backup mode vzdump needs a storage",
      field: "storage",
      check: (b) => b.mode !== "vzdump" || b.storage !== undefined,
    },
    {
      rule: "!has(self.storage) || (has(self.mode) && self.mode == 'vzdump')",
      message: "storage applies only to backup mode vzdump",
      field: "storage",
      check: (b) => b.storage === undefined || b.mode === "vzdump",
    },
    {
      rule: "!has(self.fallbackStorage) || !has(self.mode) || self.mode != 'none'",
      message: "fallbackStorage needs a backup: it does not apply to mode none",
      field: "fallbackStorage",
      check: (b) => b.fallbackStorage === undefined || b.mode !== "none",
    },
  ],
).describe("Backup taken before the update; rollback restores it");
export type BackupSpec = z.infer<typeof backupSpec>;
