/** Pure backup decisions for the guest update flow: which backup, its steps, their results, retention. */
export { chooseBackup, type BackupChoice, type BackupContext } from "./choose.js";
export {
  containerVolumes,
  snapshotBlockers,
  SNAPSHOT_STORAGE_TYPES,
  type ContainerVolume,
} from "./volumes.js";
export { archiveBackupName, backupName, backupTakenAt, snapshotDescription, vzdumpNotes } from "./naming.js";
export {
  backupsToPrune,
  ownArchives,
  ownSnapshots,
  type OwnedBackup,
  type RetentionDecision,
} from "./retention.js";
export {
  decidePrune,
  PRUNE_LOCK_WAIT_MS,
  PRUNE_RETRY_MS,
  type PruneDecision,
  type PruneObservation,
} from "./prune.js";
export {
  deleteArchiveStep,
  deleteSnapshotStep,
  listArchivesStep,
  listSnapshotsStep,
  restoreSteps,
  rollbackSteps,
  takeBackupSteps,
  unlockStep,
  type BackupStep,
} from "./commands.js";
export {
  deleteSnapshotOutcome,
  freeOutcome,
  outcomeError,
  restoreOutcome,
  rollbackOutcome,
  snapshotOutcome,
  vzdumpOutcome,
  type StepOutcome,
  type StepResult,
} from "./results.js";
export {
  resumeBackup,
  resumeRollback,
  type BackupResume,
  type BackupResumeObservation,
  type RollbackResume,
  type RollbackResumeObservation,
} from "./resume.js";
