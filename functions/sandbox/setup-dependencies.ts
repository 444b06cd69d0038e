// The dependency-setup function: installs one working copy's dependencies (the project's `setup`,
// default `npm ci`) on the cell's shared workspace, from the project's cache when the lockfile is
// unchanged. Same image and same empty role as the sandbox function, but placed where a package
// registry is reachable: through the NAT under the cell's DNS firewall, or the CodeArtifact
// endpoints in cells without egress (the registry URL and a short-lived token come in the request).
import middy from '@middy/core';
import { observability } from '../../lib/middleware';
import type { SetupResponse } from '../../lib/ports/command-runner';
import { serveSetupRequest } from '../../lib/workspace/dependency-setup';
import { readSandboxFunctionSettings } from '../../lib/workspace/sandbox-runner';

const settings = readSandboxFunctionSettings();

export const handler = middy(async (event: unknown): Promise<SetupResponse> => serveSetupRequest(event, settings)).use(observability());
