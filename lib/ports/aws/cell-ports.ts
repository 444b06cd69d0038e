// How a function in a cell gets its ports: its handler declares, per port it uses, the adapter
// module to load (declareCellPorts in lib/runtime.ts); each adapter module exports its factory as
// `cellPort`, and assembleCellPorts builds each adapter on first use. This module imports no
// adapter and no SDK client, so a bundle holds only the adapters its handler named: an API route
// that never touches a repository carries no git or GitHub client.
import type { Ports } from '../index';
import { PortError } from '../errors';
import type { AwsPortsConfig } from './config';

export type PortName = keyof Ports;

/** What an adapter is built from. */
export interface CellPortContext {
  readonly config: AwsPortsConfig;
  /** The runtime's workspace root (RuntimeConfig.workspaceRoot, the EFS mount in a cell). */
  readonly workspaceRoot: string;
  /** The function's other ports, for an adapter built on another (the repository host reads secrets). */
  readonly ports: Ports;
}

/** Builds one port's AWS adapter; each adapter module exports its own (e.g. `sqsWorkQueue`). */
export type CellPortFactory<K extends PortName> = (context: CellPortContext) => Ports[K];

/** The ports a function uses, each with the factory of its adapter. */
export type CellPortFactories = { readonly [K in PortName]?: CellPortFactory<K> };

/**
 * Loads one port's adapter module, e.g. `() => import('../../lib/ports/aws/pipeline-starter')`.
 * A dynamic import, so a process that never builds the cell runtime (the local runtime loads the
 * same handlers) never loads the SDK client; esbuild still puts the module into the bundle.
 */
export type CellPortLoader<K extends PortName> = () => Promise<{ readonly cellPort: CellPortFactory<K> }>;

/** What a handler declares: the ports its function uses, each with its adapter module's loader. */
export type CellPortLoaders = { readonly [K in PortName]?: CellPortLoader<K> };

/** Loads the declared adapter modules and returns their factories. */
export async function loadCellPorts(loaders: CellPortLoaders): Promise<CellPortFactories> {
  const loaded = await Promise.all(
    Object.entries(loaders).map(async ([name, load]) => [name, (await (load as CellPortLoader<PortName>)()).cellPort] as const),
  );
  return Object.fromEntries(loaded) as CellPortFactories;
}

/** A port was used in a function whose environment does not configure it. */
export class PortNotConfiguredError extends PortError {
  readonly code = 'PortNotConfigured';
  constructor(
    readonly port: string,
    readonly variable: string,
  ) {
    super(`The ${port} port is not configured: set ${variable}`);
  }
}

/** A port was used in a function whose handler did not declare it, so its adapter is not in the bundle. */
export class PortNotDeclaredError extends PortError {
  readonly code = 'PortNotDeclared';
  constructor(readonly port: string) {
    super(
      `The ${port} port is not part of this function: its handler (functions/…) must declare it with ` +
        `declareCellPorts({ ${port}: () => import('…/lib/ports/aws/<adapter>') }) so the adapter is bundled`,
    );
  }
}

/** A stand-in whose every method fails with PortNotConfiguredError, so a missing variable surfaces at use. */
export function unconfigured<T extends object>(port: string, variable: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'then') return undefined; // not a thenable, so `await ports.x` stays harmless
      return async () => {
        throw new PortNotConfiguredError(port, variable);
      };
    },
  });
}

/**
 * A stand-in for an undeclared port: every method throws PortNotDeclaredError when called, at once
 * rather than as a rejected promise, so a synchronous member (`repositories.supportsPullRequests`)
 * fails too instead of answering with a truthy promise.
 */
function undeclared<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'then' || typeof property === 'symbol') return undefined; // not a thenable
      return () => {
        throw new PortNotDeclaredError(port);
      };
    },
  });
}

/** Every port, as the keys of a record the compiler checks for completeness: a port added to Ports and not here fails to compile. */
const EVERY_PORT: Record<PortName, true> = {
  pipeline: true,
  detection: true,
  callbacks: true,
  queue: true,
  events: true,
  artifacts: true,
  secrets: true,
  repositories: true,
  commands: true,
  schedules: true,
  alarms: true,
};
const PORT_NAMES = Object.keys(EVERY_PORT) as PortName[];

/**
 * The ports of one function: each declared port's adapter is built on first use (and then kept),
 * an undeclared one fails on use with PortNotDeclaredError. Every port is present as a property,
 * so code that passes `ports.x` along without using it keeps working.
 */
export function assembleCellPorts(factories: CellPortFactories, config: AwsPortsConfig, workspaceRoot: string): Ports {
  const ports = {} as Ports;
  const context: CellPortContext = { config, workspaceRoot, ports };
  for (const name of PORT_NAMES) {
    const factory = factories[name] as CellPortFactory<PortName> | undefined;
    let built: Ports[PortName] | undefined;
    Object.defineProperty(ports, name, {
      enumerable: true,
      get: () => (built ??= factory ? factory(context) : undeclared<Ports[PortName]>(name)),
    });
  }
  return ports;
}
