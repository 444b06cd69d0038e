// The `cahoots` command line: commander definitions for run, dev, status, events, approve, reject,
// cancel and cost, and the mapping of every failure to one line on stderr and an exit code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { ApiRequestError, ApiUnreachableError, CommandFailedError, EXIT, UsageError, type ExitCode } from './errors';
import { Output } from './output';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function packageVersion(): string {
  try {
    const text = readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(run: (action: () => Promise<ExitCode>) => Promise<void>): Command {
  const program = new Command('cahoots')
    .description('An AI development team (planner, developers, reviewer, QA) for your git repository.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  program
    .command('run')
    .description('Run one goal end to end on a git repository (local, or cloned from a URL) with the local runtime')
    .option('--repo <path|url>', 'a local git repository (the checked-out branch is the base) or an https:// URL to clone (its default branch is the base; token from GITHUB_TOKEN)')
    .option('--goal <text>', 'what the team should do; the first line becomes the title')
    .option('--description <text>', 'more detail for the planner')
    .option('--model <spec>', 'model spec, repeatable or comma-separated, cheapest first (default: CAHOOTS_MODEL)', collect)
    .option('--autonomy <1-5>', '1 asks before the plan and delivery, 2 asks for the plan, 3 only for risky plans, 4-5 never')
    .option('--budget-usd <n>', 'spending limit for this goal in USD')
    .option('--parallel <n>', 'tasks worked at the same time')
    .addOption(new Option('--approve <mode>', 'answer approval gates: auto or prompt (default: prompt on a terminal, else auto)'))
    .option('--allow <command>', 'a command prefix agents may run besides the defaults, e.g. "node --test" (repeatable)', collect)
    .option('--deliver <pr|branch>', 'with a URL: pr pushes the goal branch and opens a pull request (default on GitHub), branch pushes the branch only')
    .option('--github-api-url <url>', 'GitHub Enterprise Server REST API base, e.g. https://github.example.com/api/v3 (default: GITHUB_API_URL when it is on the repository host)')
    .option('--data-dir <dir>', 'keep state in this directory (default: in memory, gone when the run ends)')
    .option('--json', 'print one JSON document at the end on stdout; progress goes to stderr')
    .option('--verbose', 'also show every model call')
    .action((flags) =>
      run(async () => {
        const { runGoalCommand } = await import('./run');
        return runGoalCommand(flags);
      }),
    );

  program
    .command('detect')
    .description('Look for work in a local repository now (failing tests, type errors, debt …) and print the findings')
    .option('--repo <path>', 'a local git repository; its checked-out branch is read as committed')
    .option('--data-dir <dir>', 'keep findings in this directory, so the next run shows the same fingerprints and what got resolved (default: in memory)')
    .option('--json', 'print {"findings": […], "resolved": […]} on stdout; progress goes to stderr')
    .action((flags) => run(async () => (await import('./detect')).detectCommand(flags)));

  program
    .command('dev')
    .description('Serve the HTTP API and run the workers on this machine, with state kept on disk')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', '8787')
    .option('--data-dir <dir>', 'where state is kept', '.cahoots')
    .option('--model <spec>', 'default models for projects without a policy (default: CAHOOTS_MODEL)', collect)
    .action((flags) =>
      run(async () => {
        const { devCommand } = await import('./dev');
        return devCommand(flags);
      }),
    );

  const remote = (command: Command) =>
    command
      .option('--data-dir <dir>', 'the local data directory (used through its running cahoots dev when there is one)', '.cahoots')
      .option('--endpoint <url>', 'a deployed Cahoots API instead, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1 (SigV4-signed)')
      .option('--json', 'print JSON instead of text');

  remote(program.command('status').description('Projects, their goals and what waits for you'))
    .option('--project <id>', 'only this project (required with --endpoint)')
    .action((flags) => run(async () => (await import('./inspect')).statusCommand(flags)));

  remote(program.command('events').description("Print a goal's event log").argument('<goalId>'))
    .option('--after <n>', 'start after this sequence number', '0')
    .option('--follow', 'keep printing new events until the goal ends')
    .action((goalId: string, flags) => run(async () => (await import('./inspect')).eventsCommand(goalId, flags)));

  remote(program.command('approve').description('Approve what a goal waits on (plan, delivery or budget)').argument('<goalId>'))
    .option('--comment <text>', 'a note for the record')
    .option('--budget-usd <n>', 'for a budget gate: the new per-goal limit')
    .action((goalId: string, flags) => run(async () => (await import('./inspect')).decideCommand(goalId, 'approve', flags)));

  remote(program.command('reject').description('Reject what a goal waits on; the goal is cancelled').argument('<goalId>'))
    .option('--comment <text>', 'why')
    .action((goalId: string, flags) => run(async () => (await import('./inspect')).decideCommand(goalId, 'reject', flags)));

  remote(program.command('cancel').description('Stop a goal and mark it CANCELLED').argument('<goalId>'))
    .option('--reason <text>', 'why')
    .action((goalId: string, flags) => run(async () => (await import('./inspect')).cancelCommand(goalId, flags)));

  remote(program.command('cost').description('Spend by day and model'))
    .option('--project <id>', 'only this project (required with --endpoint)')
    .option('--since <YYYY-MM-DD>', 'first day (default: 29 days ago)')
    .action((flags) => run(async () => (await import('./inspect')).costCommand(flags)));

  return program;
}

/** Runs the command line and returns the exit code; never throws. */
export async function main(argv: readonly string[], output = new Output()): Promise<ExitCode> {
  let pending: Promise<ExitCode> | undefined;
  const program = buildProgram(async (action) => {
    pending = action();
    await pending;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    const code = pending ? await pending : EXIT.ok;
    await output.flush();
    return code;
  } catch (error) {
    const code = report(error, output);
    await output.flush();
    return code;
  }
}

function report(error: unknown, output: Output): ExitCode {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    // Commander's own words ("unknown option '--foo'") name the flag already.
    output.error(`cahoots: ${error.message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ')}; see cahoots help`);
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    output.error(`cahoots: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof CommandFailedError || error instanceof ApiRequestError || error instanceof ApiUnreachableError) {
    output.error(`cahoots: ${error.message}`);
    return EXIT.failed;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  output.error(`cahoots: unexpected failure: ${message}`);
  if (process.env.CAHOOTS_DEBUG && error instanceof Error && error.stack) output.error(error.stack);
  return EXIT.failed;
}
