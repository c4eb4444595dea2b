/** Exit codes shared by every refit command. */
export const EXIT = {
  ok: 0,
  /** Something failed or stalled. */
  failed: 1,
  /** Invalid input: desired state, flags or arguments. */
  invalid: 2,
  /** Halted by the kill switch. */
  halted: 3,
} as const;
