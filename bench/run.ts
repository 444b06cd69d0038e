// `npm run bench`: runs every benchmark in one process and prints the figures side by side.
import type { OverheadSample } from './pipeline-overhead';

// Set before the runtime is imported: Powertools reads these when its modules load.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const { measureOverhead } = await import('./pipeline-overhead');
const { comparePromptCacheLayouts, renderPromptCacheComparison } = await import('./prompt-cache');
const { printInfrastructureCost } = await import('./infrastructure-cost');
const { printFunctionBundles } = await import('./function-bundles');
const { benchDynamoTransport } = await import('./dynamo-transport');

const SIZES = [1, 10, 50];
const PARALLEL = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  console.log(`Local orchestration overhead per task (instant replay model, ${PARALLEL} tasks in parallel, median of ${ROUNDS} rounds)\n`);
  // One warm-up goal so module loading and JIT do not land on the first size.
  await measureOverhead(1, PARALLEL);
  const rows: OverheadSample[] = [];
  for (const size of SIZES) {
    const samples: OverheadSample[] = [];
    for (let round = 0; round < ROUNDS; round++) samples.push(await measureOverhead(size, PARALLEL));
    rows.push({
      tasks: size,
      wallMs: median(samples.map((s) => s.wallMs)),
      modelMs: median(samples.map((s) => s.modelMs)),
      overheadMs: median(samples.map((s) => s.overheadMs)),
      perTaskMs: median(samples.map((s) => s.perTaskMs)),
      cpuPerTaskMs: median(samples.map((s) => s.cpuPerTaskMs)),
    });
  }
  const base = rows[0]!;
  const header = ['planned tasks', 'wall ms', 'model ms', 'overhead ms', 'ms per task', 'per-task × vs 1 task', 'total × vs 1 task'];
  const lines = rows.map((r) => [
    String(r.tasks),
    r.wallMs.toFixed(0),
    r.modelMs.toFixed(0),
    r.overheadMs.toFixed(0),
    r.perTaskMs.toFixed(1),
    (r.perTaskMs / base.perTaskMs).toFixed(2),
    (r.overheadMs / base.overheadMs).toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const line of lines) console.log(fmt(line));
  console.log('\n"ms per task" counts the planning and both quality-gate tasks as tasks too (n + 3 units).');
  console.log(`\n${renderPromptCacheComparison(await comparePromptCacheLayouts()).join('\n')}`);
  await printInfrastructureCost();
  await printFunctionBundles();
  await benchDynamoTransport({ tasks: 50, parallel: PARALLEL, rounds: ROUNDS });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
