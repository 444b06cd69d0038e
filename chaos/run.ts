// `npm run chaos [-- --seed <seed>] [--cycles <n>] [--fault-rate <0..1>]`: the reliability drill
// (chaos/harness.ts). Prints its figures and exits 1 if any integrity check failed, 2 on bad flags.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatReport, runChaos } from './harness';
import { newSeed } from './random';

export const DEFAULT_CYCLES = 20;

const FlagsSchema = z.object({
  seed: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a seed is 1–64 letters, digits, dots, dashes or underscores').optional(),
  cycles: z.coerce.number().int('--cycles must be a whole number').min(1, '--cycles must be at least 1').max(1000, '--cycles is at most 1000').default(DEFAULT_CYCLES),
  'fault-rate': z.coerce.number().min(0, '--fault-rate is at least 0').lt(1, '--fault-rate is below 1').default(0.2),
});

async function main(): Promise<number> {
  let flags: z.infer<typeof FlagsSchema>;
  try {
    const { values } = parseArgs({ options: { seed: { type: 'string' }, cycles: { type: 'string' }, 'fault-rate': { type: 'string' } }, strict: true });
    const parsed = FlagsSchema.safeParse(values);
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
    flags = parsed.data;
  } catch (error) {
    console.error(`chaos: ${(error as Error).message}\nusage: npm run chaos -- [--seed <seed>] [--cycles <n>] [--fault-rate <0..1>]`);
    return 2;
  }
  const seed = flags.seed ?? newSeed();
  console.log(`chaos: seed ${seed} (replay with --seed ${seed})`);
  // Ctrl-C ends the run after the goal under way and stops the server it started.
  const stop = new AbortController();
  const onSignal = () => {
    console.log('chaos: stopping after the goal under way (Ctrl-C again to leave at once)');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report = await runChaos({ seed, cycles: flags.cycles, faultRate: flags['fault-rate'], signal: stop.signal, log: (line) => console.log(line) });
  console.log(formatReport(report));
  return report.violations.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos: the drill itself failed:', error);
    process.exit(3);
  },
);
