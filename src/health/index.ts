export type { ProbeIo, ProbeTarget, RunProbe } from "./contract.js";
export { runProbe } from "./probe.js";
export {
  BASELINE_SAMPLES,
  baselineAll,
  baselineProbe,
  compareWithBaseline,
  probeAll,
  type BaselineComparison,
  type CheckVerdict,
} from "./baseline.js";
export { controllerProbeIo, httpRequest, tcpConnect } from "./local-io.js";
export { probeBudgetMs, waitAfterFailure } from "./backoff.js";
export { p95, LATENCY_SAMPLES } from "./latency.js";
export { containerProbeIo, pctProbeExec } from "./pct-io.js";
