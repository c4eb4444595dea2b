export const API_GROUP = "refit.dev";
export const API_VERSION = "v1alpha1";
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}` as const;

/** Labels and annotations Refit reads or writes. */
export const LABEL_PLAN = `${API_GROUP}/plan`;
export const ANNOTATION_FORCE = `${API_GROUP}/force`;
export const ANNOTATION_REQUESTED_AT = `${API_GROUP}/requested-at`;
