// The detectors that look beyond the code: labelled GitHub issues (through the repository host,
// against the loopback GitHub REST fake) and the customer's CloudWatch alarms (through the alarms
// port, with a reader the test controls), then both in a DetectWork run on the local runtime, where
// an alarm back to OK resolves its finding and the issue detector skips a local repository.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../lib/domain/commands';
import type { Project } from '../../lib/domain/project';
import { alarmFingerprint, alarmSeverity, alarmsDetector } from '../../lib/detection/detectors/alarms';
import { issuesDetector, severityOfLabels } from '../../lib/detection/detectors/issues';
import { allFindings } from '../../lib/detection/findings';
import type { DetectionSummary } from '../../lib/detection/inputs';
import type { DetectorContext } from '../../lib/detection/types';
import { DetectorFailedError } from '../../lib/detection/types';
import { FingerprintSchema } from '../../lib/domain/finding';
import { UnavailableAlarmReader } from '../../lib/local/alarm-reader';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime';
import type { AlarmInAlarm, AlarmReader, RepositoryHost } from '../../lib/ports/index';
import { AlarmReadError } from '../../lib/ports/aws/alarm-reader';
import { createRepositoryHost } from '../../lib/ports/repository/index';
import { startFakeGitHub, type FakeGitHub, type FakeIssue } from '../support/fake-github';
import { secretsWith, storedProject } from '../support/repository-fixtures';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { createPlantedRepo } from './planted-repo';
import { NO_MODELS } from './detector-context';

const TOKEN = 'github_pat_11CANARY0token0never0on0disk0Zq8';
const PROJECT_ID = 'prj_01JDQ7ZKX3M5W8R2T4V6Y9B0CE';
const NOW = new Date('2026-12-01T09:00:00Z');

/** An alarm reader answering from a map the test changes between runs; records what it was asked. */
class ScriptedAlarmReader implements AlarmReader {
  readonly firing = new Map<string, AlarmInAlarm>();
  readonly asked: string[][] = [];
  async alarmsInAlarm(names: readonly string[]): Promise<AlarmInAlarm[]> {
    this.asked.push([...names]);
    return names.flatMap((name) => this.firing.get(name) ?? []);
  }
}

const firing = (name: string, extra: Partial<AlarmInAlarm> = {}): AlarmInAlarm => ({
  name,
  stateReason: 'Threshold Crossed: 1 datapoint [12.0 (01/12/26 08:55:00)] was greater than the threshold (5.0).',
  stateChangedAt: '2026-12-01T08:56:00.000Z',
  metric: 'AWS/ApplicationELB HTTPCode_Target_5XX_Count (LoadBalancer=app/shop/1)',
  ...extra,
});

/** The detectors under test run no commands; a call would be a bug, so the runner throws. */
const noCommands = new Proxy({} as CommandRunner, {
  get: () => () => {
    throw new Error('these detectors run no commands');
  },
});

function contextFor(project: Project, parts: { repositories: RepositoryHost; alarms?: AlarmReader }): DetectorContext {
  return { project, commands: noCommands, workingCopy: 'unused', dir: '/nonexistent', repositories: parts.repositories, alarms: parts.alarms ?? new UnavailableAlarmReader(), registry: { unavailable: 'no registry in this test' }, models: NO_MODELS, earlierFindings: async () => [], now: NOW };
}

describe('issue detector', () => {
  let github: FakeGitHub;
  let scratch: TempRepo;
  let host: RepositoryHost;
  let shop: Project;

  const issue = (number: number, fields: Partial<FakeIssue> = {}): FakeIssue => ({
    number,
    owner: 'acme',
    repo: 'shop',
    state: 'open',
    title: `Issue ${number}`,
    body: `Body of ${number}`,
    labels: ['cahoots'],
    ...fields,
  });

  beforeEach(async () => {
    scratch = createTempRepo();
    github = await startFakeGitHub({ tokens: [TOKEN], repositories: [{ owner: 'acme', name: 'shop' }] });
    host = createRepositoryHost({ secrets: secretsWith({ 'github/token': TOKEN }), workspaceRoot: scratch.scratch });
    // Only the REST API is used: the git URL is never fetched.
    shop = storedProject(PROJECT_ID, { url: 'https://github.example.test/acme/shop.git', apiUrl: github.apiUrl, defaultBranch: 'main' });
  });

  afterEach(async () => {
    await github.close();
    scratch.cleanup();
  });

  it('files one finding per open labelled issue, skipping pull requests, closed issues and other labels', async () => {
    const longBody = Array.from({ length: 40 }, (_, line) => `line ${line + 1}`).join('\n');
    github.issues.push(
      issue(12, { title: 'Checkout fails for EUR carts', labels: ['cahoots', 'bug'], body: `${longBody}\nleaked ${TOKEN}`, updatedAt: '2026-11-30T10:00:00Z' }),
      issue(13, { title: 'Add a dark mode', labels: ['cahoots'], body: null, updatedAt: '2026-11-29T10:00:00Z' }),
      issue(14, { title: 'Rotate the key', labels: ['Security', 'cahoots'], body: `key ${TOKEN} in the log`, updatedAt: '2026-11-28T10:00:00Z' }),
      issue(15, { title: 'A pull request', pullRequest: true }),
      issue(16, { title: 'Closed', state: 'closed' }),
      issue(17, { title: 'Not for the team', labels: ['bug'] }),
    );

    const outcome = await issuesDetector.detect(contextFor(shop, { repositories: host }));

    expect(outcome.skipped).toBeUndefined();
    expect(outcome.findings.map((finding) => [finding.fingerprint, finding.title, finding.severity])).toEqual([
      ['issue:acme/shop#12', '#12 Checkout fails for EUR carts', 'high'],
      ['issue:acme/shop#13', '#13 Add a dark mode', 'medium'],
      ['issue:acme/shop#14', '#14 Rotate the key', 'critical'],
    ]);
    for (const finding of outcome.findings) expect(FingerprintSchema.safeParse(finding.fingerprint).success, finding.fingerprint).toBe(true);
    const [checkout, darkMode, rotate] = outcome.findings;
    expect(checkout!.location).toEqual({ url: 'https://github.example.test/acme/shop/issues/12' });
    expect(checkout!.detail).toContain('https://github.example.test/acme/shop/issues/12');
    expect(checkout!.detail).toContain('labels: cahoots, bug');
    // The first lines of the body are the evidence, not the whole of it.
    expect(checkout!.detail).toContain('line 20');
    expect(checkout!.detail).not.toContain('line 21');
    expect(darkMode!.detail).toBe('https://github.example.test/acme/shop/issues/13\nlabels: cahoots');
    // Secrets in an issue never reach the stored evidence.
    expect(rotate!.detail).toContain('[REDACTED:github-token]');
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);

    // GitHub's own request: the project's label, open only, largest pages, most recently updated first.
    const listing = github.requests.filter((request) => request.path === '/repos/acme/shop/issues');
    expect(listing).toHaveLength(1);
    expect(listing[0]!.query).toMatchObject({ labels: 'cahoots', state: 'open', per_page: '100', sort: 'updated', direction: 'desc' });
  });

  it("uses the project's own label, follows pages, and drops an issue's finding once it is closed", async () => {
    const labelled = { ...shop, issueLabel: 'ai team' };
    for (let number = 1; number <= 230; number += 1) github.issues.push(issue(number, { labels: ['ai team'] }));

    const first = await issuesDetector.detect(contextFor(labelled, { repositories: host }));
    expect(first.findings).toHaveLength(230);
    expect(github.requests.filter((request) => request.path === '/repos/acme/shop/issues').map((request) => request.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(github.requests.every((request) => request.path !== '/repos/acme/shop/issues' || request.query.labels === 'ai team')).toBe(true);

    github.issues.find((candidate) => candidate.number === 7)!.state = 'closed';
    const second = await issuesDetector.detect(contextFor(labelled, { repositories: host }));
    expect(second.findings).toHaveLength(229);
    expect(second.findings.map((finding) => finding.fingerprint)).not.toContain('issue:acme/shop#7');
    // The same issues keep the same fingerprints run after run.
    expect(second.findings.map((finding) => finding.fingerprint)).toEqual(first.findings.map((finding) => finding.fingerprint).filter((fp) => fp !== 'issue:acme/shop#7'));
  });

  it('reads at most 10 pages of 100', async () => {
    for (let number = 1; number <= 1_050; number += 1) github.issues.push(issue(number));
    const listing = await host.listOpenIssues(shop, 'cahoots');
    expect(listing).toMatchObject({ supported: true, repository: 'acme/shop', truncated: true });
    expect(listing.supported && listing.issues).toHaveLength(1_000);
    expect(github.requests.filter((request) => request.path === '/repos/acme/shop/issues')).toHaveLength(10);
  });

  it('is not applicable to a local path or a plain git remote, and fails (not throws past the run) on refused credentials', async () => {
    const local = storedProject(PROJECT_ID, { path: scratch.dir, defaultBranch: 'main' });
    expect(await issuesDetector.detect(contextFor(local, { repositories: host }))).toEqual({
      findings: [],
      skipped: 'the repository is a local path, which has no issue tracker',
    });
    const gitea = storedProject(PROJECT_ID, { url: 'https://git.example.test/acme/shop.git', defaultBranch: 'main' });
    const plain = await issuesDetector.detect(contextFor(gitea, { repositories: host }));
    expect(plain.findings).toEqual([]);
    expect(plain.skipped).toMatch(/plain git remote/);
    expect(github.requests).toHaveLength(0);

    const refused = createRepositoryHost({ secrets: secretsWith({ 'github/token': 'github_pat_11WRONG0token0for0this0test0Zq8' }), workspaceRoot: scratch.scratch });
    const error = await issuesDetector.detect(contextFor(shop, { repositories: refused })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DetectorFailedError);
    expect((error as Error).message).toMatch(/^issue: .*401/);
  });

  it('takes severity from labels, the highest match winning', () => {
    expect(severityOfLabels([])).toBe('medium');
    expect(severityOfLabels(['cahoots', 'enhancement'])).toBe('medium');
    expect(severityOfLabels(['Bug'])).toBe('high');
    expect(severityOfLabels(['documentation'])).toBe('low');
    expect(severityOfLabels(['documentation', 'bug', 'critical'])).toBe('critical');
  });
});

describe('alarm detector', () => {
  const project = (alarmNames: string[]) =>
    storedProject(PROJECT_ID, { path: '/nonexistent', defaultBranch: 'main' }, { detection: { detectors: ['alarm'], maxGoalsPerDay: 1, alarmNames } });
  const unused = createRepositoryHost({ secrets: secretsWith({}), workspaceRoot: '/nonexistent' });

  it('files each named alarm in ALARM with its reason, metric and time as evidence', async () => {
    const reader = new ScriptedAlarmReader();
    reader.firing.set('shop-api-5xx', firing('shop-api-5xx', { description: 'Checkout answers 5xx' }));
    reader.firing.set('Shop payments (critical)', firing('Shop payments (critical)', { metric: undefined }));
    const outcome = await alarmsDetector.detect(contextFor(project(['shop-api-5xx', 'shop-latency', 'Shop payments (critical)']), { repositories: unused, alarms: reader }));

    expect(reader.asked).toEqual([['shop-api-5xx', 'shop-latency', 'Shop payments (critical)']]);
    expect(outcome.findings).toHaveLength(2);
    const [api, payments] = outcome.findings;
    expect(api).toMatchObject({ fingerprint: 'alarm:shop-api-5xx', title: 'Alarm shop-api-5xx is in ALARM', severity: 'high' });
    expect(api!.detail).toBe(
      [
        'CloudWatch alarm shop-api-5xx in ALARM since 2026-12-01T08:56:00.000Z',
        'metric: AWS/ApplicationELB HTTPCode_Target_5XX_Count (LoadBalancer=app/shop/1)',
        'reason: Threshold Crossed: 1 datapoint [12.0 (01/12/26 08:55:00)] was greater than the threshold (5.0).',
        'description: Checkout answers 5xx',
      ].join('\n'),
    );
    // A name a fingerprint cannot hold as it is still gets a stable, valid one.
    expect(payments!.severity).toBe('critical');
    expect(payments!.fingerprint).toBe(alarmFingerprint('Shop payments (critical)'));
    expect(payments!.fingerprint).toMatch(/^alarm:Shop_payments__critical_@[0-9a-f]{16}$/);
    expect(FingerprintSchema.safeParse(payments!.fingerprint).success).toBe(true);
  });

  it('keeps fingerprints stable and distinct, and reads critical from the name or description', () => {
    expect(alarmFingerprint('a b')).toBe(alarmFingerprint('a b'));
    expect(alarmFingerprint('a b')).not.toBe(alarmFingerprint('a_b'));
    expect(FingerprintSchema.safeParse(alarmFingerprint('x'.repeat(255))).success).toBe(true);
    expect(alarmSeverity({ name: 'shop-critical-errors' })).toBe('critical');
    expect(alarmSeverity({ name: 'shop-errors', description: 'SEV1: page the on-call' })).toBe('critical');
    expect(alarmSeverity({ name: 'shop-noncritical' })).toBe('high');
  });

  it('is skipped without alarm names or where alarms cannot be read, and fails on a refused request', async () => {
    const reader = new ScriptedAlarmReader();
    expect(await alarmsDetector.detect(contextFor(project([]), { repositories: unused, alarms: reader }))).toEqual({
      findings: [],
      skipped: 'the project names no alarms (detection.alarmNames)',
    });
    expect(reader.asked).toEqual([]);
    const locally = await alarmsDetector.detect(contextFor(project(['shop-api-5xx']), { repositories: unused }));
    expect(locally).toEqual({ findings: [], skipped: expect.stringContaining('not available locally') });

    const refusing: AlarmReader = {
      alarmsInAlarm: async () => {
        throw new AlarmReadError('CloudWatch refused to describe 1 alarm(s) starting with shop-api-5xx: AccessDenied: no');
      },
    };
    const error = await alarmsDetector.detect(contextFor(project(['shop-api-5xx']), { repositories: unused, alarms: refusing })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DetectorFailedError);
    expect((error as Error).message).toContain('AccessDenied');
  });
});

describe('alarm and issue detectors in a DetectWork run', () => {
  let repo: TempRepo;
  let local: LocalRuntime;
  const reader = new ScriptedAlarmReader();

  beforeAll(async () => {
    repo = createPlantedRepo();
    local = await startLocalRuntime({ config: { workspaceRoot: repo.scratch }, retryIntervalOverrides: {}, alarms: reader });
  });

  afterAll(async () => {
    await local.stop();
    repo.cleanup();
  });

  async function detect(project: Project): Promise<DetectionSummary> {
    const { executionId } = await local.runtime.ports.detection.startDetection({ projectId: project.id, trigger: 'manual' });
    const outcome = await local.detectionRunner.waitForExecution(executionId);
    if (outcome.status !== 'SUCCEEDED') throw new Error(`DetectWork ended ${outcome.status}: ${JSON.stringify(outcome)}`);
    return outcome.output as DetectionSummary;
  }

  it('files an alarm in ALARM, resolves it once the alarm is OK again, and skips issues of a local repository', async () => {
    const project = await local.store.projects.create({
      name: 'Shop',
      repo: { path: repo.dir, defaultBranch: 'main' },
      autonomyLevel: 2,
      detection: { detectors: ['alarm', 'issue'], maxGoalsPerDay: 1, alarmNames: ['shop-api-5xx', 'shop-latency'] },
    });
    reader.firing.set('shop-api-5xx', firing('shop-api-5xx'));
    reader.firing.set('shop-latency', firing('shop-latency', { description: 'critical: p99 above 2 s' }));

    const first = await detect(project);
    expect(first.detectors).toEqual(
      expect.arrayContaining([
        { detector: 'alarm', ok: true, count: 2 },
        { detector: 'issue', ok: true, count: 0, skipped: 'the repository is a local path, which has no issue tracker' },
      ]),
    );
    const filed = await allFindings(local.store, project.id);
    expect(filed.map((finding) => [finding.fingerprint, finding.detector, finding.severity, finding.status]).sort()).toEqual([
      ['alarm:shop-api-5xx', 'alarm', 'high', 'open'],
      ['alarm:shop-latency', 'alarm', 'critical', 'open'],
    ]);

    reader.firing.delete('shop-api-5xx');
    const second = await detect(project);
    expect(second.merged?.resolved).toEqual(['alarm:shop-api-5xx']);
    const after = await allFindings(local.store, project.id);
    expect(after.find((finding) => finding.fingerprint === 'alarm:shop-api-5xx')?.status).toBe('resolved');
    expect(after.find((finding) => finding.fingerprint === 'alarm:shop-latency')).toMatchObject({ status: 'open', seenCount: 2 });
  });
});
