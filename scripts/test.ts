// `npm test`: the typecheck, the linter, the layer rules and the test suite, all started at once.
// Run one after the other they leave a core idle for long stretches (tsc and ESLint are mostly one
// thread; many tests wait on child processes), and on a 2-core CI machine that idle time was a
// third of the run. The suite streams its output as it goes; each check's output is held and
// printed when it ends, so lines never interleave. Exits 1 when any of them failed.
import { spawn } from 'node:child_process';

interface Step {
  /** The npm script. */
  script: string;
  /** Streams its output as it comes (only one step may). */
  live?: boolean;
}

const STEPS: readonly Step[] = [{ script: 'typecheck' }, { script: 'lint' }, { script: 'lint:layers' }, { script: 'test:unit', live: true }];

interface Outcome {
  script: string;
  code: number;
  seconds: number;
}

function runStep(step: Step): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', step.script], { stdio: step.live ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    let held = '';
    child.stdout?.on('data', (chunk: Buffer) => (held += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (held += chunk.toString('utf8')));
    const finish = (code: number) => {
      const seconds = (performance.now() - started) / 1000;
      if (!step.live) process.stdout.write(`\n── npm run ${step.script}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s\n${held}`);
      resolve({ script: step.script, code, seconds });
    };
    child.on('error', (error) => {
      held += `${error.message}\n`;
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

const outcomes = await Promise.all(STEPS.map(runStep));
process.stdout.write('\n');
for (const { script, code, seconds } of outcomes) {
  process.stdout.write(`${code === 0 ? 'passed' : 'FAILED'}  ${script.padEnd(12)} ${seconds.toFixed(0).padStart(4)} s\n`);
}
process.exitCode = outcomes.every((outcome) => outcome.code === 0) ? 0 : 1;
