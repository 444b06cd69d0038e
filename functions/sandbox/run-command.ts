// The sandbox function: runs one allow-listed command in one working copy on the cell's shared
// workspace and answers with its exit code, output and duration. Its role holds nothing but its
// logs, its network interfaces and the workspace mount; it has no network. Agent workers invoke
// it synchronously (lib/ports/aws/lambda-command-runner.ts).
import middy from '@middy/core';
import { observability } from '../../lib/middleware';
import type { CommandResponse } from '../../lib/ports/command-runner';
import { readSandboxFunctionSettings, serveCommandRequest } from '../../lib/workspace/sandbox-runner';

const settings = readSandboxFunctionSettings();

export const handler = middy(async (event: unknown): Promise<CommandResponse> => serveCommandRequest(event, settings)).use(observability());
