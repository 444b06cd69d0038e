// Building the app: which customers `-c customer=<id>` selects, and the offline-synth guard that
// every customer's account and region has availability zones pre-seeded in cdk.json.
import { describe, expect, it } from 'vitest';
import { availabilityZonesContextKey, buildApp } from '../../infra/app';
import { listCustomerIds, loadCustomerConfigs } from '../../infra/config/customer-config';
import { CELL_AZ_COUNT } from '../../infra/constructs/cell-network';
import { cdkJsonContext, testContext } from './helpers';

function stageIds(context: Record<string, unknown>): string[] {
  return buildApp({ context })
    .app.node.children.map((child) => child.node.id)
    .filter((id) => id.startsWith('Cahoots-'))
    .sort();
}

describe('customer selection', () => {
  it('builds every customer file without -c customer', () => {
    expect(stageIds(testContext())).toEqual(listCustomerIds().map((id) => `Cahoots-${id}`));
  });

  it('builds only the named customer with -c customer=<id>', () => {
    const { app, cells } = buildApp({ context: { ...testContext(), customer: 'acme' } });
    expect(cells.map((cell) => cell.config.id)).toEqual(['acme']);
    expect(app.node.tryFindChild('Cahoots-example')).toBeUndefined();
    expect(cells[0]!.stacks.map((stack) => stack.stackName)).toEqual([
      'Cahoots-acme-Stateful',
      'Cahoots-acme-Network',
      'Cahoots-acme-Service',
      'Cahoots-acme-Pipeline',
      'Cahoots-acme-Agents',
      'Cahoots-acme-Api',
      'Cahoots-acme-Observability',
    ]);
  });

  it('refuses an unknown customer and lists the known ones', () => {
    expect(() => buildApp({ context: { ...testContext(), customer: 'nobody' } })).toThrow(
      /No customer file for "nobody" .*known customers: .*acme/,
    );
  });
});

describe('offline synth', () => {
  it('cdk.json pre-seeds at least two AZs for every customer account and region', () => {
    const context = cdkJsonContext();
    for (const config of loadCustomerConfigs()) {
      const zones = context[availabilityZonesContextKey(config.account, config.region)];
      expect(Array.isArray(zones) && zones.length >= CELL_AZ_COUNT, `${config.id}: ${config.account}/${config.region}`).toBe(true);
    }
  });

  it('says which file needs which context entry when AZs are missing', () => {
    const context = testContext();
    delete context[availabilityZonesContextKey('210987654321', 'us-east-1')];
    expect(() => buildApp({ context: { ...context, customer: 'acme' } })).toThrow(
      /infra\/customers\/acme\.json: no availability zones .*"availability-zones:account=210987654321:region=us-east-1".*cdk\.json/,
    );
  });
});
