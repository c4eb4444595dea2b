import { createHash } from "node:crypto";

/**
 * A stable pseudo-random delay in [0, maxMs] (whole milliseconds) for `key` in `cycle`: a hash, not a
 * random number, so a restarted controller computes the same delay and targets keep their spread.
 */
export function jitterMs(key: string, cycle: string, maxMs: number): number {
  if (!Number.isFinite(maxMs) || maxMs < 0)
    throw new RangeError(`jitter bound must be a finite number >= 0, got ${maxMs}`);
  const max = Math.floor(maxMs);
  if (max === 0) return 0;
  // A separator no name contains keeps ("ab","c") and ("a","bc") apart.
  const digest = createHash("sha256").update(key).update("\u0000").update(cycle).digest();
  const fraction = digest.readUIntBE(0, 6) / 2 ** 48;
  return Math.min(max, Math.floor(fraction * (max + 1)));
}
