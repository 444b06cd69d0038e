// Runs a detector's command through the CommandRunner port: the allow-list is exactly the
// command's fixed words (everything after them must be plain operands), so a detector can run
// only what it names, wherever the runner lives.
import type { CommandOutcome } from '../domain/commands';
import { DetectorFailedError, excerpt, type DetectorContext } from './types';

/** Detectors run tests and compilers; ten minutes, within the sandbox function's fourteen. */
export const DETECTOR_COMMAND_TIMEOUT_MS = 10 * 60_000;

export async function runDetectorCommand(
  detector: string,
  context: DetectorContext,
  command: readonly string[],
  operands: readonly string[] = [],
  options: { maxOutputBytes?: number } = {},
): Promise<CommandOutcome> {
  const outcome = await context.commands.run({
    workingCopy: context.workingCopy,
    argv: [...command, ...operands],
    allowedCommands: [command.join(' ')],
    timeoutMs: DETECTOR_COMMAND_TIMEOUT_MS,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
  });
  if (outcome.exitCode === 127) {
    // 127 is also the sandbox's npx finding no installed program: its message says which.
    const why = outcome.stderr.trim() ? `: ${excerpt(outcome.stderr, 300)}` : '';
    throw new DetectorFailedError(detector, `${command.join(' ')} found no program to run where detection runs${why}`);
  }
  if (outcome.timedOut) throw new DetectorFailedError(detector, `${command.join(' ')} ran longer than ${DETECTOR_COMMAND_TIMEOUT_MS / 60_000} minutes`);
  return outcome;
}
