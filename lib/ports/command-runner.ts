// The CommandRunner port: where an agent's commands run. Its request and response schemas are
// domain shapes (lib/domain/commands.ts) because the runner itself (lib/workspace) reads them too.
// Adapters: SandboxCommandRunner (lib/workspace/sandbox-runner.ts, local) and LambdaCommandRunner
// (lib/ports/aws, the sandbox function); a refusal is CommandRefusedError (lib/workspace/errors.ts).
export * from '../domain/commands';
