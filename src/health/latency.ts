/** The 95th percentile by nearest rank: with few samples it is the slowest one, never an interpolation. */
export function p95(samples: readonly number[]): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil(0.95 * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? 0;
}

/** How many requests one latency-checked round makes, so that p95 means something. */
export const LATENCY_SAMPLES = 5;
