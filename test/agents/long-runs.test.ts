// Long agent runs: heartbeats keep coming while one command runs, commands are capped by the time
// the invocation has left, and a run near its deadline suspends and is finished by a continuation
// in the same working copy.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentCheckpointSchema, AgentSuspendedError, runAgent } from '../../lib/agents/index';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { makeTask, newIds, replayGateway, toolUse } from './support';

const repos: TempRepo[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) repo.cleanup();
});

// Exits only once two more heartbeats have been written while it runs; a run whose heartbeats come
// only between turns never gets them and the command times out.
const WAIT_FOR_BEATS = `import { readdirSync } from 'node:fs';
const beats = () => readdirSync('beats').length;
const before = beats();
const timer = setInterval(() => {
  if (beats() >= before + 2) {
    clearInterval(timer);
    console.log('heartbeats during the command: ' + (beats() - before));
  }
}, 10);
`;

function repoWith(files: Record<string, string>): TempRepo {
  const repo = createTempRepo({ 'package.json': '{ "name": "demo", "type": "module" }\n', ...files });
  repos.push(repo);
  return repo;
}

describe('long runs', () => {
  it('keeps heartbeating from a timer while a long command runs', async () => {
    const repo = repoWith({ 'wait-for-beats.js': WAIT_FOR_BEATS });
    mkdirSync(join(repo.dir, 'beats'));
    let beat = 0;
    const { result } = await runAgent({
      role: 'developer',
      task: makeTask(newIds()),
      settings: { workingDir: repo.dir, allowedCommands: ['node'], commandTimeoutMs: 60_000 },
      model: {
        gateway: replayGateway({
          conversations: [
            {
              turns: [
                { content: [toolUse('run_command', { argv: ['node', 'wait-for-beats.js'] })] },
                { content: [toolUse('finish', { summary: 'The command saw heartbeats.' })], expect: { lastMessageIncludes: ['exit code 0', 'heartbeats during the command'] } },
              ],
            },
          ],
        }),
      },
      hooks: {
        heartbeat: () => writeFileSync(join(repo.dir, 'beats', String(++beat)), ''),
        heartbeatIntervalMs: 20,
      },
    });
    expect(result.summary).toBe('The command saw heartbeats.');
  });

  it('caps a command by the time the invocation has left, suspends, and a continuation finishes with the files still there', async () => {
    const repo = repoWith({ 'hang.js': 'setInterval(() => {}, 1000);\n' });
    const task = makeTask(newIds());
    const MARGIN = 90_000;
    // The Lambda's remaining time as the worker sees it; the test moves it on after the command.
    let remainingMs = MARGIN + 1_500;
    const script = {
      conversations: [
        {
          turns: [
            { content: [toolUse('write_file', { path: 'progress.md', content: 'step one done\n' })] },
            { content: [toolUse('run_command', { argv: ['node', 'hang.js'], timeoutSeconds: 600 })] },
            { content: [toolUse('read_file', { path: 'progress.md' })], expect: { lastMessageIncludes: 'timed out' } },
            { content: [toolUse('finish', { summary: 'Resumed and found the work in place.', filesChanged: ['progress.md'] })], expect: { lastMessageIncludes: 'step one done' } },
          ],
        },
      ],
    };
    const hooks = {
      timeLeftMs: () => remainingMs - MARGIN,
      shouldSuspend: () => remainingMs < MARGIN,
    };
    const suspended = await runAgent({
      role: 'developer',
      task,
      settings: { workingDir: repo.dir, allowedCommands: ['node'], commandTimeoutMs: 600_000 },
      model: { gateway: replayGateway(script) },
      hooks: {
        ...hooks,
        onEvent: (event) => {
          if (event.type === 'Tool.Called' && event.data.tool === 'run_command') remainingMs = MARGIN - 1;
        },
      },
    }).catch((e: unknown) => e);
    expect(suspended).toBeInstanceOf(AgentSuspendedError);
    const { checkpoint } = suspended as AgentSuspendedError;
    expect(checkpoint.turns).toBe(2);

    // The continuation: a new invocation with time to spare, the same working copy (on EFS in a cell).
    remainingMs = 900_000;
    const resumed = await runAgent({
      role: 'developer',
      task,
      settings: { workingDir: repo.dir, allowedCommands: ['node'], commandTimeoutMs: 600_000 },
      model: { gateway: replayGateway(script) },
      hooks,
      resume: { checkpoint: AgentCheckpointSchema.parse(JSON.parse(JSON.stringify(checkpoint))) },
    });
    expect(resumed.result.summary).toBe('Resumed and found the work in place.');
    expect(readdirSync(repo.dir)).toContain('progress.md');
  });
});
