// Builds the CDK app: one CustomerCell per customer file, or only those asked for with
// `-c customer=<id>[,<id>…]`, with cdk-nag on. bin/app.ts calls this; tests call it with options.
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { type CustomerConfig, loadCustomerConfigs } from './config/customer-config';
import { CELL_AZ_COUNT } from './constructs/cell-network';
import { addNagChecks } from './nag';
import { CUSTOMERS_DIR, displayPath } from './paths';
import { CustomerCell } from './stages/customer-cell';

export interface BuildAppOptions {
  /** Customers to synthesize. Default: the `customer` context value, else every customer file. */
  readonly customerIds?: readonly string[];
  readonly outdir?: string;
  /** Context for the App; the CLI passes cdk.json's context through the environment instead. */
  readonly context?: Record<string, unknown>;
  readonly customersDir?: string;
  /**
   * CDK's CloudFormation schema check of every resource (default on, as in `cdk synth`). It costs
   * seconds per synth; tests that synthesize the same cells again may turn it off.
   */
  readonly builtinCloudFormationValidation?: boolean;
}

export interface CahootsApp {
  readonly app: App;
  readonly cells: readonly CustomerCell[];
}

/** The context key under which CDK looks up an environment's AZs; cdk.json pre-seeds it. */
export function availabilityZonesContextKey(account: string, region: string): string {
  return `availability-zones:account=${account}:region=${region}`;
}

export function buildApp(options: BuildAppOptions = {}): CahootsApp {
  const app = new App({
    outdir: options.outdir,
    context: options.context,
    builtinCloudFormationValidation: options.builtinCloudFormationValidation,
  });
  const customersDir = options.customersDir ?? CUSTOMERS_DIR;
  const ids = options.customerIds ?? parseCustomerContext(app.node.tryGetContext('customer'));
  const configs = loadCustomerConfigs({ dir: customersDir, ids });
  for (const config of configs) {
    requireAvailabilityZones(app, config, customersDir);
  }

  addNagChecks(app);
  const cells = configs.map((config) => new CustomerCell(app, config));
  return { app, cells };
}

function parseCustomerContext(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = String(value)
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0) {
    throw new Error('-c customer= is empty; name a customer id, or leave it out to synthesize every customer');
  }
  return ids;
}

/**
 * Without pre-seeded AZs the CLI would try to look them up in the account, which needs
 * credentials; failing here says what to add instead of failing on a missing credential.
 */
function requireAvailabilityZones(app: App, config: CustomerConfig, customersDir: string): void {
  const key = availabilityZonesContextKey(config.account, config.region);
  const zones: unknown = app.node.tryGetContext(key);
  if (!Array.isArray(zones) || zones.length < CELL_AZ_COUNT) {
    const file = displayPath(path.join(customersDir, `${config.id}.json`));
    throw new Error(
      `${file}: no availability zones for account ${config.account} in ${config.region}. ` +
        `Synth runs offline, so add "${key}": ["${config.region}a", "${config.region}b", …] ` +
        `(at least ${CELL_AZ_COUNT} zones) to "context" in cdk.json.`,
    );
  }
}
