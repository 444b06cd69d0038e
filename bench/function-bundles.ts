// Bundle size and cold import time of every Lambda handler, built with the deployed esbuild
// settings (infra/lambda-bundling.ts) and imported in a fresh Node 22 process each time, printed
// against the figures of the eager-ports layout the per-function ports replaced.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildHandlerBundles, type HandlerBundle } from '../infra/lambda-bundling';
import { REPO_ROOT } from '../infra/paths';

const run = promisify(execFile);

/** Node 22, as Lambda runs it: the `node` devDependency's binary, else this process if it is Node 22. */
function node22(): string {
  const installed = path.join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  if (fs.existsSync(installed)) return installed;
  if (process.versions.node.split('.')[0] === '22') return process.execPath;
  throw new Error(`Cold imports are measured with Node 22: install the \`node\` devDependency (npm ci) or run the bench with Node 22 (this is ${process.version})`);
}

/**
 * The layout before per-function ports (every port and AWS client in every bundle, all of zod),
 * built from commit 004b8af with this file's settings: bytes of JS per function, and the median cold
 * import CPU time in ms (3 runs, no `--enable-source-maps`) of the two functions measured beside
 * the current bundles on the same 2-core machine. Times vary with the machine; the ratios carry over.
 */
export const EAGER_PORTS_BASELINE: { commit: string; bytes: Record<string, number>; importMs: Record<string, number> } = {
  commit: '004b8af',
  bytes: {
    'agents/agent-worker': 2057022,
    'api/cancel-goal': 1940043,
    'api/create-goal': 1940151,
    'api/create-project': 1940524,
    'api/decide-approval': 1941726,
    'api/get-costs': 1940058,
    'api/get-goal': 1939505,
    'api/get-openapi': 1969217,
    'api/get-project': 1938928,
    'api/github-webhook': 1946252,
    'api/list-findings': 1939026,
    'api/list-goal-events': 1939085,
    'api/list-goals': 1939284,
    'api/list-projects': 1939025,
    'api/update-project': 1939183,
    'events/publish-pending-events': 1916652,
    'pipeline/assess-goal': 1928394,
    'pipeline/decide-plan-approval': 1921876,
    'pipeline/deliver': 1927157,
    'pipeline/end-goal': 1928478,
    'pipeline/evaluate-quality-gate': 1922618,
    'pipeline/open-quality-gate': 1921430,
    'pipeline/record-task-failure': 1919506,
    'pipeline/request-approval': 1923451,
    'pipeline/select-ready-tasks': 1919386,
    'pipeline/start-goal': 1924835,
    'sandbox/run-command': 631398,
  },
  importMs: {
    'agents/agent-worker': 624,
    'api/get-goal': 570,
  },
};

export interface BundleFigures {
  name: string;
  bytes: number;
  /** Median CPU time to import the bundle in a fresh process. */
  importMs: number;
  /** The same with `--enable-source-maps`, the flag the functions ran with before. */
  importWithMapsMs: number;
}

/**
 * Imports `file` in a fresh Node 22 process and returns the CPU time the import took, in ms (user
 * plus system, all threads). CPU time rather than wall time: on a shared machine a wall clock
 * measures the neighbours; on an idle one the two agree within a few percent.
 */
async function coldImportMs(file: string, flags: string[] = []): Promise<number> {
  const script =
    'const before = process.cpuUsage(); await import(process.argv[1]); const spent = process.cpuUsage(before); process.stdout.write(String((spent.user + spent.system) / 1000));';
  const { stdout } = await run(node22(), [...flags, '--input-type=module', '-e', script, pathToFileURL(file).href], {
    // What a function's environment holds at import; nothing here reaches AWS.
    // The sandbox functions check their workspace mount's path when they load.
    env: { PATH: process.env.PATH, POWERTOOLS_SERVICE_NAME: 'bench', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: 'eu-west-1', CAHOOTS_WORKSPACE_ROOT: os.tmpdir() },
  });
  const ms = Number(stdout);
  if (!Number.isFinite(ms)) throw new Error(`importing ${file} printed ${JSON.stringify(stdout)} instead of a time`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function medianImportMs(file: string, runs: number, flags: string[] = []): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await coldImportMs(file, flags));
  return median(samples);
}

/** Measures bundles that are already built, one after the other so they do not compete for the CPU. */
export async function measureBundles(bundles: readonly Pick<HandlerBundle, 'name' | 'file' | 'bytes'>[], runs: number): Promise<BundleFigures[]> {
  const figures: BundleFigures[] = [];
  for (const bundle of bundles) {
    figures.push({
      name: bundle.name,
      bytes: bundle.bytes,
      importMs: await medianImportMs(bundle.file, runs),
      importWithMapsMs: await medianImportMs(bundle.file, runs, ['--enable-source-maps']),
    });
  }
  return figures;
}

/** Builds every handler's bundle into `outdir` (a temporary directory by default) and measures each. */
export async function measureFunctionBundles(runs: number, outdir?: string): Promise<BundleFigures[]> {
  const dir = outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cahoots-bundles-'));
  try {
    return await measureBundles(await buildHandlerBundles(dir), runs);
  } finally {
    if (!outdir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const formatKb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** The bench section: every function's bundle and cold import now, beside the eager-ports baseline. */
export async function printFunctionBundles(runs = Number(process.env.BENCH_IMPORT_RUNS ?? 5)): Promise<void> {
  console.log(
    `\nLambda bundles: JS size and cold import CPU time in a fresh Node 22 process (median of ${runs}), against the eager-ports layout of ${EAGER_PORTS_BASELINE.commit}\n`,
  );
  const figures = await measureFunctionBundles(runs);
  const header = ['function', 'KB then', 'KB now', 'size ×', 'import ms then', 'import ms now', 'import ×', 'now + source maps ms'];
  const rows = figures.map((f) => {
    const bytesThen = EAGER_PORTS_BASELINE.bytes[f.name];
    const importThen = EAGER_PORTS_BASELINE.importMs[f.name];
    return [
      f.name,
      bytesThen ? formatKb(bytesThen) : '-',
      formatKb(f.bytes),
      bytesThen ? (f.bytes / bytesThen).toFixed(2) : '-',
      importThen ? importThen.toFixed(0) : '-',
      f.importMs.toFixed(0),
      importThen ? (f.importMs / importThen).toFixed(2) : '-',
      f.importWithMapsMs.toFixed(0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  for (const row of rows) console.log(format(row));
  console.log(
    '\n"then" was measured once on the baseline commit with this procedure; "× " is now / then. The functions run without' +
      ' --enable-source-maps (last column: what the flag would add); see docs/deploy.md.',
  );
}
