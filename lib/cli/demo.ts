// `npm run demo`: copies examples/todo-app to a temporary directory, makes it a git repository
// with one commit, and runs `cahoots run` on it with the recorded model turns of
// examples/todo-app.replay.json and --approve auto. Everything but the model is real: the state
// machine, store, queues, workers, git and the example's own tests run in the sandbox.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const fs = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { default: git } = await import('isomorphic-git');
const { main } = await import('./program');
const { Output } = await import('./output');

const GOAL = 'Add a remove(id) function and a count of open todos, with tests';
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const output = new Output();

const dir = join(fs.mkdtempSync(join(tmpdir(), 'cahoots-demo-')), 'todo-app');
fs.cpSync(join(examples, 'todo-app'), dir, { recursive: true });
await git.init({ fs, dir, defaultBranch: 'main' });
await git.add({ fs, dir, filepath: '.' });
await git.commit({ fs, dir, message: 'The todo app before Cahoots', author: { name: 'Cahoots demo', email: 'demo@cahoots.invalid' } });

output.info(`Demo: a copy of examples/todo-app in ${dir}, committed on main.`);
output.info(`The model is replayed from examples/todo-app.replay.json; everything else runs for real.\n`);
const code = await main([
  'run',
  '--repo', dir,
  '--goal', GOAL,
  '--model', `replay:${join(examples, 'todo-app.replay.json')}`,
  '--approve', 'auto',
  '--allow', 'node --test',
  ...process.argv.slice(2),
], output);

const branch = (await git.listBranches({ fs, dir })).find((b) => b.startsWith('cahoots/'));
if (branch && code === 0) {
  output.info(`  cd ${dir} && git switch ${branch} && npm test    # the example's tests on the result`);
}
await output.flush();
process.exit(code);
