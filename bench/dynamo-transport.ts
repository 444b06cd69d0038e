// The local store's transport to dynalite, before and after: the same goal run with the DynamoDB
// client going through the loopback socket with SigV4 (`http`, how every request went before) and
// handing requests to dynalite's listener in-process (`in-process`, the runtime's default). Rounds
// alternate between the two so a machine whose load changes during the run affects both alike.
import type { DynaliteTransport } from '../lib/local/dynalite';
import { measureOverhead, type OverheadSample } from './pipeline-overhead';

const TRANSPORTS: DynaliteTransport[] = ['http', 'in-process'];
/** The orchestration target per task (issue "Local overhead"). */
const TARGET_MS_PER_TASK = 40;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchDynamoTransport(options: { tasks: number; parallel: number; rounds: number }): Promise<void> {
  console.log(`\nLocal store transport to dynalite (${options.tasks}-task goal, ${options.parallel} in parallel, median of ${options.rounds} alternating rounds)\n`);
  const samples = new Map<DynaliteTransport, OverheadSample[]>(TRANSPORTS.map((t) => [t, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const transport of TRANSPORTS) samples.get(transport)!.push(await measureOverhead(options.tasks, options.parallel, { dynamoTransport: transport }));
  }
  const rows = TRANSPORTS.map((transport) => {
    const runs = samples.get(transport)!;
    return { transport, perTaskMs: median(runs.map((s) => s.perTaskMs)), cpuPerTaskMs: median(runs.map((s) => s.cpuPerTaskMs)) };
  });
  const before = rows[0]!;
  const header = ['transport', 'ms per task', 'cpu ms per task', 'wall × vs http', 'cpu × vs http', `≤ ${TARGET_MS_PER_TASK} ms per task`];
  const lines = rows.map((r) => [
    r.transport,
    r.perTaskMs.toFixed(1),
    r.cpuPerTaskMs.toFixed(1),
    (r.perTaskMs / before.perTaskMs).toFixed(2),
    (r.cpuPerTaskMs / before.cpuPerTaskMs).toFixed(2),
    r.perTaskMs <= TARGET_MS_PER_TASK ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const line of lines) console.log(fmt(line));
  console.log('\n"cpu ms" is this process\'s user + system time (the runtime, dynalite and isomorphic-git all run in it): steadier than wall time when other work loads the machine.');
}
