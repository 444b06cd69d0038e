// The customer file schema: the shipped files are valid, and a bad file fails with a message that
// names the file and the field, both when parsed directly and when the app is built from it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { parseRuntimeConfig } from '../../lib/runtime';
import {
  CustomerConfigError,
  DEFAULT_PIPELINE_TIMEOUTS,
  listCustomerIds,
  loadCustomerConfigs,
  parseCustomerConfig,
} from '../../infra/config/customer-config';
import { CUSTOMERS_DIR } from '../../infra/paths';
import { removeTempDirs, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

const example = JSON.parse(fs.readFileSync(path.join(CUSTOMERS_DIR, 'example.json'), 'utf8')) as Record<string, any>;

/** Parses `example.json` with `change` applied, as if it were the file `infra/customers/<name>.json`. */
function parseVariant(change: (config: Record<string, any>) => void, name = 'example'): unknown {
  const config = structuredClone(example);
  change(config);
  return parseCustomerConfig(path.join(CUSTOMERS_DIR, `${name}.json`), JSON.stringify(config));
}

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CustomerConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a CustomerConfigError');
}

describe('shipped customer files', () => {
  it('all parse, and include the example and the test customer', () => {
    const configs = loadCustomerConfigs();
    expect(configs.map((config) => config.id)).toEqual(listCustomerIds());
    expect(configs.map((config) => config.id)).toEqual(expect.arrayContaining(['example', 'acme']));
    expect(configs.find((config) => config.id === 'example')!.account).toBe('123456789012');
  });
});

describe('optional settings', () => {
  it('default the pipeline timeouts to the runtime defaults, and leave agent concurrency unreserved', () => {
    const config = parseVariant((c) => {
      delete c.agentConcurrency;
      delete c.pipelineTimeouts;
    }) as Record<string, any>;
    expect(config.pipelineTimeouts).toEqual(DEFAULT_PIPELINE_TIMEOUTS);
    expect(config.agentConcurrency).toBeUndefined();
    const runtimeDefaults = parseRuntimeConfig({ queueUrls: {} });
    expect(DEFAULT_PIPELINE_TIMEOUTS).toEqual({
      taskTimeoutSeconds: runtimeDefaults.taskTimeoutSeconds,
      heartbeatSeconds: runtimeDefaults.heartbeatSeconds,
      approvalTimeoutSeconds: runtimeDefaults.approvalTimeoutSeconds,
    });
  });

  it('fill in the timeouts a file leaves out, and the runtime accepts what the file accepts', () => {
    const config = parseVariant((c) => (c.pipelineTimeouts = { heartbeatSeconds: 600 })) as Record<string, any>;
    expect(config.pipelineTimeouts).toEqual({ ...DEFAULT_PIPELINE_TIMEOUTS, heartbeatSeconds: 600 });
    const bounds = { taskTimeoutSeconds: 86_400, heartbeatSeconds: 10, approvalTimeoutSeconds: 2_592_000 };
    expect((parseVariant((c) => (c.pipelineTimeouts = bounds)) as Record<string, any>).pipelineTimeouts).toEqual(bounds);
    expect(parseRuntimeConfig({ queueUrls: {}, ...bounds })).toMatchObject(bounds);
  });

  it('reject a heartbeat that is not shorter than the task timeout, an unknown role and a concurrency below 2', () => {
    expect(problemsOf(() => parseVariant((c) => (c.pipelineTimeouts = { taskTimeoutSeconds: 300, heartbeatSeconds: 300 })))).toBe(
      'infra/customers/example.json: pipelineTimeouts.heartbeatSeconds: must be shorter than taskTimeoutSeconds',
    );
    expect(problemsOf(() => parseVariant((c) => (c.agentConcurrency = { tester: 4 })))).toBe(
      'infra/customers/example.json: agentConcurrency.tester: unknown field',
    );
    expect(problemsOf(() => parseVariant((c) => (c.agentConcurrency = { developer: 1 })))).toMatch(
      /^infra\/customers\/example\.json: agentConcurrency\.developer: .*2/,
    );
  });
});

describe('a malformed customer file', () => {
  it('names the file and the field of a bad enum value', () => {
    expect(problemsOf(() => parseVariant((config) => (config.egress = 'open')))).toBe(
      'infra/customers/example.json: egress: expected "nat" | "none"',
    );
    expect(problemsOf(() => parseVariant((config) => (config.endpoints = 'all')))).toContain(
      'infra/customers/example.json: endpoints: expected "full" | "minimal"',
    );
  });

  it('names nested fields by their full path, one line per problem', () => {
    const message = problemsOf(() =>
      parseVariant((config) => {
        config.projectDefaults.autonomyLevel = 7;
        config.projectDefaults.modelPolicy.planner = ['gpt-4'];
        config.account = '1234';
      }),
    );
    const lines = message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.startsWith('infra/customers/example.json: '))).toBe(true);
    expect(message).toContain('account: must be a 12-digit AWS account id');
    expect(message).toMatch(/projectDefaults\.autonomyLevel: .*5/);
    expect(message).toMatch(/projectDefaults\.modelPolicy\.planner\.0: model spec must be/);
  });

  it('takes notification subscribers and a Slack channel, naming what is wrong with each', () => {
    expect((parseVariant(() => undefined) as { notifications: unknown }).notifications).toEqual({ emails: [] });
    const good = parseVariant((config) => {
      config.notifications = { emails: ['lead@example.com'], slack: { workspaceId: 'T07ABC12DEF', channelId: 'C05XYZ98UVW' } };
    }) as { notifications: unknown };
    expect(good.notifications).toEqual({ emails: ['lead@example.com'], slack: { workspaceId: 'T07ABC12DEF', channelId: 'C05XYZ98UVW' } });
    const message = problemsOf(() =>
      parseVariant((config) => {
        config.notifications = { emails: ['lead@example.com', 'LEAD@example.com', 'not-an-address'], slack: { workspaceId: 'acme', channelId: '#cahoots', team: 'x' } };
      }),
    );
    expect(message.split('\n').map((line) => line.replace('infra/customers/example.json: ', '')).sort()).toEqual([
      'notifications.emails.2: must be an e-mail address',
      'notifications.emails: lists LEAD@example.com twice (addresses are compared without case)',
      'notifications.slack.channelId: must be a Slack channel id such as C05XYZ98UVW (channel details → bottom of the About tab), not the #name',
      'notifications.slack.team: unknown field',
      'notifications.slack.workspaceId: must be a Slack workspace (team) id such as T07ABC12DEF, shown in the AWS Chatbot console after the workspace is authorized',
    ]);
  });

  it('fails synth naming each role that has workers but no model', () => {
    const message = problemsOf(() =>
      parseVariant((config) => {
        delete config.projectDefaults.modelPolicy.qa;
        delete config.projectDefaults.modelPolicy.ux;
      }),
    );
    expect(message.split('\n').sort()).toEqual([
      'infra/customers/example.json: projectDefaults.modelPolicy.qa: the qa role has agent workers in this cell but no model; name at least one',
      'infra/customers/example.json: projectDefaults.modelPolicy.ux: the ux role has agent workers in this cell but no model; name at least one',
    ]);
  });

  it('rejects unknown fields, so a typo cannot silently fall back to a default', () => {
    expect(
      problemsOf(() =>
        parseVariant((config) => {
          config.egres = 'none';
        }),
      ),
    ).toBe('infra/customers/example.json: egres: unknown field');
  });

  it('rejects a missing field, an id unfit for resource names, and an id that is not the file name', () => {
    expect(problemsOf(() => parseVariant((config) => delete config.alarmEmail))).toMatch(/example\.json: alarmEmail: /);
    expect(problemsOf(() => parseVariant((config) => (config.id = 'Bad_Id'), 'Bad_Id'))).toMatch(
      /Bad_Id\.json: id: must be 3-24 characters/,
    );
    expect(problemsOf(() => parseVariant((config) => (config.id = 'other')))).toBe(
      'infra/customers/example.json: id: must equal the file name "example"',
    );
  });

  it('reports a file that is not JSON', () => {
    expect(problemsOf(() => parseCustomerConfig(path.join(CUSTOMERS_DIR, 'broken.json'), '{ "id": '))).toMatch(
      /^infra\/customers\/broken\.json: not valid JSON/,
    );
  });

  it('fails the app build (and so `cdk synth`) with the file and the field', () => {
    const dir = tempOutdir('customers');
    const bad = structuredClone(example);
    bad.id = 'badcorp';
    bad.egress = 'open';
    fs.writeFileSync(path.join(dir, 'badcorp.json'), JSON.stringify(bad));
    expect(() => buildApp({ customersDir: dir, context: testContext(), outdir: tempOutdir('bad-app') })).toThrow(
      `${path.join(dir, 'badcorp.json')}: egress: expected "nat" | "none"`,
    );
  });
});

describe('the egress allow-list', () => {
  it('is read from a nat cell\'s file, and absent when the file names none', () => {
    const parsed = parseVariant(() => undefined) as { egressAllowList?: string[] };
    expect(parsed.egressAllowList).toEqual(['registry.npmjs.org', 'github.com', '*.github.com', '*.githubusercontent.com']);
    expect((parseVariant((config) => delete config.egressAllowList) as { egressAllowList?: string[] }).egressAllowList).toBeUndefined();
  });

  it('names each entry that is not a domain', () => {
    const message = problemsOf(() => parseVariant((config) => (config.egressAllowList = ['registry.npmjs.org', 'https://github.com', 'GitHub.com', '*'])));
    const lines = message.split('\n');
    expect(lines).toHaveLength(3);
    for (const index of [1, 2, 3]) {
      expect(lines).toContainEqual(expect.stringContaining(`egressAllowList.${index}: must be a lower-case domain name such as registry.npmjs.org`));
    }
  });

  it('must not be empty', () => {
    expect(problemsOf(() => parseVariant((config) => (config.egressAllowList = []))).split('\n')).toEqual([expect.stringMatching(/egressAllowList: Too small/)]);
  });

  it('is refused with egress none, saying where dependencies come from instead', () => {
    const message = problemsOf(() => parseVariant((config) => (config.egress = 'none')));
    expect(message).toMatch(/example\.json: egressAllowList: has no effect with egress "none": .*CodeArtifact repository; remove it or set egress to "nat"/);
  });
});
