/** Condition reasons for secrets that cannot be read. */
export const SecretReason = {
  FileMissing: "SecretFileMissing",
  FileUnreadable: "SecretFileUnreadable",
  EnvMissing: "SecretEnvMissing",
  Empty: "SecretEmpty",
  KeyRefUnsupported: "SecretKeyRefNeedsKubernetes",
  KeyMissing: "SecretKeyMissing",
  ReadFailed: "SecretReadFailed",
  SourceEmpty: "SecretSourceEmpty",
} as const;
