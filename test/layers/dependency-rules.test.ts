// The layering rules in .dependency-cruiser.js, run by the real depcruise against a small tree
// that breaks each rule once (and keeps every allowed import), so a rule that stops matching —
// a typo in a path pattern, a renamed folder — fails here instead of passing silently in CI.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.js');
// Run by the node that runs the tests, whatever `node` is first on PATH.
const DEPCRUISE = join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

/**
 * Each fixture file and what it imports (`lazy:` marks a dynamic import). Every import that breaks
 * a rule sits in a file whose name holds `leaky`; the other files keep to the layers, including the
 * exceptions the rules allow.
 */
const FIXTURE: Record<string, string[]> = {
  'lib/domain/goal.ts': ['./status'],
  'lib/domain/status.ts': ['zod'],
  'lib/powertools.ts': [],
  'lib/runtime-env.ts': [],
  'lib/tracing.ts': ['./powertools'],
  'lib/middleware.ts': ['./powertools', './tracing'],
  'lib/store/goals.ts': ['../domain/goal', './keys', '../powertools', '../runtime-env'],
  'lib/store/keys.ts': [],
  'lib/store/table-definition.ts': [],
  'lib/models/gateway.ts': ['../domain/goal', '../tracing'],
  'lib/workspace/git.ts': ['../domain/goal', 'isomorphic-git'],
  'lib/ports/index.ts': ['../domain/goal', './service-rules'],
  'lib/ports/service-rules.ts': [],
  'lib/ports/aws/adapter.ts': ['../index', '../service-rules', '@aws-sdk/client-s3'],
  'lib/ports/aws/config.ts': [],
  'lib/agents/loop.ts': ['../models/gateway', '../workspace/git'],
  'lib/runtime.ts': ['./ports/aws/adapter', './store/goals', './models/gateway'],
  'lib/pipeline/steps.ts': ['../runtime', '../ports/index', '../store/goals', '../agents/loop', '../middleware'],
  'lib/pipeline/definition.ts': ['../domain/goal'],
  'lib/api/routes.ts': ['../domain/goal'],
  'lib/detection/workflow.ts': ['../runtime', '../store/goals', '../pipeline/definition', '../ports/index'],
  'lib/detection/definition.ts': [],
  'lib/api/goals.ts': ['../store/goals', '../ports/index', '../pipeline/definition', '../runtime', '../detection/definition'],
  'lib/local/runtime.ts': ['../../functions/api/get-goal', '../../functions/agents/worker', '../runtime', '../pipeline/steps'],
  'lib/cli/main.ts': ['../local/runtime', '../api/routes'],
  'functions/api/get-goal.ts': ['../../lib/api/goals', '../../lib/middleware'],
  'functions/agents/worker.ts': ['../../lib/pipeline/steps', 'lazy:../../lib/ports/aws/adapter'],
  'infra/app.ts': ['../lib/runtime-env', '../lib/api/routes', '../lib/store/table-definition', '../lib/ports/aws/config', '../lib/pipeline/definition', '../lib/detection/definition', '../lib/domain/goal', 'aws-cdk-lib'],
  'test/helper.ts': ['../lib/local/runtime', '../functions/api/get-goal', 'vitest'],

  'lib/domain/leaky.ts': ['../store/goals', 'isomorphic-git'],
  'lib/leaky-platform.ts': [],
  'lib/tracing-leaky.ts': [],
  'lib/store/leaky.ts': ['../models/gateway'],
  'lib/ports/leaky.ts': ['./aws/adapter'],
  'lib/agents/leaky.ts': ['../pipeline/steps', '../runtime'],
  'lib/pipeline/leaky-cycle-a.ts': ['./leaky-cycle-b'],
  'lib/pipeline/leaky-cycle-b.ts': ['./leaky-cycle-a'],
  'lib/pipeline/leaky-adapter-user.ts': ['../ports/aws/adapter'],
  'lib/pipeline/leaky-api-user.ts': ['../api/goals'],
  'lib/detection/leaky-api-user.ts': ['../api/goals'],
  'lib/pipeline/leaky-detection-user.ts': ['../detection/workflow'],
  'lib/api/leaky-local-user.ts': ['../local/runtime'],
  'lib/api/leaky-handler-loader.ts': ['../../functions/api/get-goal'],
  'lib/api/leaky-step-user.ts': ['../pipeline/steps', 'vitest'],
  'lib/local/leaky.ts': ['../cli/main'],
  'lib/cli/leaky.ts': ['../../test/helper', '../../infra/app'],
  'functions/api/leaky-heavy.ts': ['../../lib/api/leaky-step-user'],
  'functions/agents/leaky.ts': ['../../lib/local/runtime', '../../lib/cli/main', '../../lib/ports/aws/adapter'],
  'infra/leaky.ts': ['../lib/store/goals', '../functions/api/get-goal'],
  'infra/leaky-reach.ts': ['@aws-sdk/client-s3'],
};

/** Every violation the fixture holds, as `rule from → to`. */
const EXPECTED = [
  'no-circular lib/pipeline/leaky-cycle-a.ts → lib/pipeline/leaky-cycle-b.ts', // a cycle is reported once
  'domain-imports-only-domain lib/domain/leaky.ts → lib/store/goals.ts',
  'domain-uses-only-schema-packages lib/domain/leaky.ts → node_modules/isomorphic-git/index.js',
  'store-models-workspace-import-only-domain lib/store/leaky.ts → lib/models/gateway.ts',
  'port-interfaces-import-only-domain lib/ports/leaky.ts → lib/ports/aws/adapter.ts',
  'aws-adapters-only-in-the-runtime lib/ports/leaky.ts → lib/ports/aws/adapter.ts',
  'aws-adapters-only-in-the-runtime lib/pipeline/leaky-adapter-user.ts → lib/ports/aws/adapter.ts',
  'agents-import-nothing-above lib/agents/leaky.ts → lib/pipeline/steps.ts',
  'agents-import-nothing-above lib/agents/leaky.ts → lib/runtime.ts',
  'pipeline-and-api-stay-apart lib/pipeline/leaky-api-user.ts → lib/api/goals.ts',
  'detection-does-not-import-the-api lib/detection/leaky-api-user.ts → lib/api/goals.ts',
  'detection-does-not-reach-back lib/pipeline/leaky-detection-user.ts → lib/detection/workflow.ts',
  'local-runtime-is-not-imported-by-lib lib/api/leaky-local-user.ts → lib/local/runtime.ts',
  'cli-is-the-top lib/local/leaky.ts → lib/cli/main.ts',
  'lib-does-not-import-entry-points lib/cli/leaky.ts → test/helper.ts',
  'lib-does-not-import-entry-points lib/cli/leaky.ts → infra/app.ts',
  'only-the-local-runtime-loads-handlers lib/api/leaky-handler-loader.ts → functions/api/get-goal.ts',
  'only-the-local-runtime-loads-handlers infra/leaky.ts → functions/api/get-goal.ts',
  'handlers-do-not-import-the-local-runtime functions/agents/leaky.ts → lib/local/runtime.ts',
  'handlers-do-not-import-the-local-runtime functions/agents/leaky.ts → lib/cli/main.ts',
  'handlers-declare-adapters-with-dynamic-imports functions/agents/leaky.ts → lib/ports/aws/adapter.ts',
  'api-handlers-do-not-load-pipeline-steps-or-agents functions/api/leaky-heavy.ts → lib/pipeline/steps.ts',
  'api-handlers-do-not-load-pipeline-steps-or-agents functions/api/leaky-heavy.ts → lib/agents/loop.ts',
  'infra-imports-only-sdk-free-lib-modules infra/leaky.ts → lib/store/goals.ts',
  'infra-imports-only-sdk-free-lib-modules infra/leaky.ts → functions/api/get-goal.ts',
  'infra-reaches-no-runtime-package infra/leaky-reach.ts → node_modules/@aws-sdk/client-s3/index.js',
  // through the handler, the runtime and the AWS adapter:
  'infra-reaches-no-runtime-package infra/leaky.ts → node_modules/@aws-sdk/client-s3/index.js',
  'runtime-code-uses-no-dev-dependency lib/api/leaky-step-user.ts → node_modules/vitest/index.js',
];

const PACKAGES = { dependencies: ['zod', 'isomorphic-git', '@aws-sdk/client-s3'], devDependencies: ['vitest', 'aws-cdk-lib'] };

interface CruiseViolation {
  rule: { name: string };
  from: string;
  to: string;
}

let root: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** The JSON report, for exact findings (its exit status is always 0). */
function cruise(args: string[]): { violations: CruiseViolation[]; stderr: string } {
  const result = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...args], { cwd: root, encoding: 'utf8' });
  const output = result.stdout ? (JSON.parse(result.stdout) as { summary: { violations: CruiseViolation[] } }) : undefined;
  return { violations: output?.summary.violations ?? [], stderr: result.stderr };
}

/** The exit status of the text report `npm run lint:layers` prints: what fails CI. */
function exitStatus(args: string[]): number | null {
  return spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'err', ...args], { cwd: root, encoding: 'utf8' }).status;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cahoots-layers-'));
  write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', strict: true } }));
  const versions = (names: string[]) => Object.fromEntries(names.map((name) => [name, '1.0.0']));
  write('package.json', JSON.stringify({ name: 'fixture', type: 'module', dependencies: versions(PACKAGES.dependencies), devDependencies: versions(PACKAGES.devDependencies) }));
  for (const name of [...PACKAGES.dependencies, ...PACKAGES.devDependencies]) {
    write(`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
    write(`node_modules/${name}/index.js`, 'export const value = 1;\n');
  }
  for (const [file, imports] of Object.entries(FIXTURE)) {
    const statement = (target: string, i: number) =>
      target.startsWith('lazy:')
        ? `export const load${i} = () => import('${target.slice('lazy:'.length)}');\n`
        : `import * as m${i} from '${target}';\nexport const use${i} = m${i};\n`;
    write(file, imports.map(statement).join('') + 'export {};\n');
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('layer rules (npm run lint:layers)', () => {
  it('report every planted violation, exactly, and fail the run', () => {
    const result = cruise(['lib', 'functions', 'infra', 'test']);
    expect(result.stderr).not.toMatch(/Error:/);
    const found = result.violations.map((v) => `${v.rule.name} ${v.from} → ${v.to}`);
    expect([...found].sort()).toEqual([...EXPECTED].sort());
    // depcruise exits with the number of errors: that file breaks two rules.
    expect(exitStatus(['lib/domain/leaky.ts'])).toBe(2);
  });

  it('pass the same tree without its leaky files', () => {
    const result = cruise(['--exclude', 'leaky', 'lib', 'functions', 'infra', 'test']);
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.violations).toEqual([]);
    expect(exitStatus(['--exclude', 'leaky', 'lib', 'functions', 'infra', 'test'])).toBe(0);
  });
});
