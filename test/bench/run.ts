/**
 * `npm run bench`: runs every benchmark in BENCH_FILES in order and prints one table each. Figures
 * are compared with their bound or baseline in the table; nothing is asserted on time. The process
 * exits non-zero only when a benchmark crashes. `npm run bench -- observe` runs the ones whose file
 * name contains "observe".
 */
import { formatReport, type BenchModule } from "./support/report.js";

/**
 * The benchmarks, in run order. Extension point: the rolling-patch makespan benchmark (issue 4) is
 * added here as "rolling-patch.bench.ts" by its owner.
 */
export const BENCH_FILES: string[] = [
  "ssh-fanout.bench.ts",
  "observe.bench.ts",
  "rolling-patch.bench.ts",
  "rolling-ha.bench.ts",
  "guest-update.bench.ts",
];

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const selected = BENCH_FILES.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  let crashed = 0;
  const started = performance.now();
  for (const file of selected) {
    const t0 = performance.now();
    try {
      const mod = (await import(`./${file}`)) as BenchModule;
      const report = await mod.run();
      for (const line of formatReport(report)) console.log(line);
    } catch (err) {
      crashed++;
      console.log(`== ${file}: CRASHED`);
      console.log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    console.log(`   (${file} took ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  console.log(
    `${selected.length} benchmark(s) in ${((performance.now() - started) / 1000).toFixed(1)} s` +
      (crashed > 0 ? `, ${crashed} crashed` : ""),
  );
  return crashed > 0 ? 1 : 0;
}

process.exitCode = await main();
