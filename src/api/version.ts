export const API_GROUP = "refit.dev";
export const API_VERSION = "v1alpha1";
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}` as const;

/** Labels and annotations Refit reads or writes. */
export const LABEL_PLAN = `${API_GROUP}/plan`;
export const ANNOTATION_FORCE = `${API_GROUP}/force`;
export const ANNOTATION_REQUESTED_AT = `${API_GROUP}/requested-at`;
/**
 * An operator's rollback request on a GuestUpdate (`refit rollback <plan> <vmid> [--to SNAPSHOT]`, or
 * `kubectl annotate`): a new requested-at value is a new request; the guest update flow acts on it
 * once and echoes the value as `status.lastHandledRequestAt`. `rollback-to` names the snapshot (or
 * vzdump notes name) to restore; absent, the update's own backup (`status.snapshot`).
 */
export const ANNOTATION_ROLLBACK_REQUESTED_AT = `${API_GROUP}/rollback-requested-at`;
export const ANNOTATION_ROLLBACK_TO = `${API_GROUP}/rollback-to`;
