// The pull request body a delivered goal gets: what it says, and that nothing a person or a model
// wrote can inject HTML, links, mentions or issue-closing references into it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeSpan, inlineText, quotedBlock } from '../../lib/pipeline/markdown';
import { MAX_BODY_CHARS, pullRequestTitle, renderPullRequestBody, type DeliveryReport } from '../../lib/pipeline/pull-request-body';

const GOAL_ID = 'goal_01J9Z3R2B4C6D8E0F2G4H6J8K0';

function report(overrides: Partial<DeliveryReport> = {}): DeliveryReport {
  return {
    goal: { id: GOAL_ID, title: 'Add a remove(id) function', description: 'Callers need to delete items by id.', planSummary: 'One developer task, then review and QA.', risk: 'low', reworkRounds: 1 },
    tasks: [
      { title: 'Plan: Add a remove(id) function', role: 'planner', kind: 'plan', status: 'SUCCEEDED', attempts: 1 },
      { title: 'Implement remove(id)', role: 'developer', kind: 'feature', status: 'SUCCEEDED', attempts: 2 },
      { title: 'Review round 1', role: 'reviewer', kind: 'review', status: 'SUCCEEDED', attempts: 1 },
    ],
    commits: [
      { sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', subject: 'Merge Implement remove(id)' },
      { sha: 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678', subject: 'Add remove(id) with tests' },
    ],
    files: [
      { path: 'src/store.js', status: 'modified' },
      { path: 'test/store.test.js', status: 'added' },
    ],
    tests: { command: 'node --test', passed: 7, failed: 0, skipped: 1, summary: 'All tests pass.' },
    reviews: [
      { round: 1, verdict: 'changes-requested', summary: 'Missing a test.', comments: [{ file: 'src/store.js', line: 3, severity: 'major', body: 'Add a test for an unknown id' }] },
      { round: 2, verdict: 'approved', summary: 'Now complete.', comments: [{ severity: 'info', body: 'Nice and small.' }] },
    ],
    cost: {
      totalUsd: 0.4213,
      byRole: [
        { role: 'developer', usd: 0.3, calls: 9 },
        { role: 'reviewer', usd: 0.1213, calls: 2 },
      ],
      byModel: [{ model: 'bedrock:us.anthropic.claude-sonnet-4-5', usd: 0.4213, calls: 11 }],
    },
    ...overrides,
  };
}

describe('the pull request body', () => {
  const body = renderPullRequestBody(report());

  it('tells the goal, the plan with every task, what changed, the tests, the verdict, the cost and where the record is', () => {
    expect(body.split('\n')[0]).toBe(`<!-- cahoots:goal=${GOAL_ID} -->`);
    expect(body).toContain('**Add a remove\\(id\\) function**');
    expect(body).toContain('> Callers need to delete items by id.');
    expect(body).toContain('3 tasks · risk low · 1 rework round');
    expect(body).toContain('| Implement remove\\(id\\) | developer | feature | ✅ succeeded | 2 |');
    expect(body).toContain('2 commits · 2 files (1 added, 1 modified, 0 deleted)');
    expect(body).toContain('- modified `src/store.js`');
    expect(body).toContain('- `b1b2c3d` Add remove\\(id\\) with tests');
    expect(body).toContain('✅ 7 passed · 0 failed · 1 skipped running `node --test`');
    expect(body).toContain('Verdict: **approved** (round 2)');
    expect(body).toContain('- **info**: Nice and small.');
    expect(body).toContain('Earlier rounds: round 1 changes-requested (1 comment)');
    expect(body).toContain('Total **$0.42**');
    expect(body).toContain('| developer | $0.30 | 9 |');
    expect(body).toContain('| bedrock:us.anthropic.claude-sonnet-4-5 | $0.42 | 11 |');
    expect(body).toContain(`\`cahoots events ${GOAL_ID}\``);
  });

  it('says so when QA or the reviewer did not report', () => {
    const bare = renderPullRequestBody(report({ tests: undefined, reviews: [] }));
    expect(bare).toContain('QA did not report test results for this goal.');
    expect(bare).toContain('No reviewer looked at this goal.');
  });

  it('shows failing tests as failing', () => {
    expect(renderPullRequestBody(report({ tests: { passed: 3, failed: 2, skipped: 0 } }))).toContain('❌ 3 passed · 2 failed · 0 skipped');
  });

  it('renders hostile goal text and model output as inert text', () => {
    const hostile = '<img src=x onerror=alert(1)> @octocat please fixes #12 and closes acme/shop#7 [click](javascript:alert(1)) ![x](https://t.example/p.png)\n# Heading\n```\ncode\n```\n| a | b |';
    const evil = renderPullRequestBody(
      report({
        goal: { ...report().goal, title: hostile, description: hostile, planSummary: hostile },
        tasks: [{ title: hostile, role: 'developer', kind: 'feature', status: 'SUCCEEDED', attempts: 1 }],
        commits: [{ sha: 'c1b2c3d4e5f60718293a4b5c6d7e8f9012345678', subject: hostile }],
        files: [{ path: 'src/`<b>`@x.js', status: 'added' }],
        tests: { command: 'npm test', passed: 1, failed: 0, skipped: 0, summary: hostile },
        reviews: [{ round: 1, verdict: 'approved', summary: hostile, comments: [{ severity: 'minor', body: hostile }] }],
      }),
    );
    const [marker, ...rest] = evil.split('\n');
    expect(marker).toBe(`<!-- cahoots:goal=${GOAL_ID} -->`);
    const outsideCode = rest.join('\n').replace(/(?<!\\)(`+)[^\n]*?\1(?!`)/g, '');
    expect(outsideCode).not.toMatch(/(^|[^\\])</m);
    expect(outsideCode).not.toMatch(/@[A-Za-z0-9]/);
    expect(outsideCode).not.toMatch(/(?<!&)#\d/);
    expect(outsideCode).not.toMatch(/(^|[^\\])\[click\]/);
    expect(outsideCode).not.toMatch(/(^|[^\\])!\[/);
    // No line of untrusted text opens a heading or a fence of its own.
    expect(evil).not.toMatch(/^(> )?# Heading/m);
    expect(evil).not.toMatch(/^(> )?```/m);
  });

  it('stays under GitHub’s size limit however much there is to say', () => {
    const many = Array.from({ length: 5_000 }, (_, i) => ({ path: `src/generated/file-${i}-${'x'.repeat(150)}.js`, status: 'added' as const }));
    const long = renderPullRequestBody(report({ files: many, tasks: Array.from({ length: 400 }, () => ({ title: `Task ${'t'.repeat(100)}`, role: 'developer', kind: 'feature', status: 'SUCCEEDED', attempts: 1 })) }));
    expect(long.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(long).toContain('… and 300 more tasks');
    expect(long).toContain('… and 4900 more');
    const comments = Array.from({ length: 30 }, () => ({ severity: 'minor', body: '@a'.repeat(250) }));
    const cut = renderPullRequestBody(report({ reviews: [{ round: 1, verdict: 'approved', comments }] }));
    expect(cut.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(cut).toMatch(/…\(cut to fit; the whole report is in `cahoots events goal_\w+`\)$/);
  });
});

describe('a pull request title', () => {
  it('is one line that links nobody', () => {
    expect(pullRequestTitle('Fix #12 for @octocat\nnow')).toBe('Fix #\u200b12 for @\u200boctocat now');
    expect(pullRequestTitle('x'.repeat(500))).toHaveLength(200);
  });
});

describe('markdown escaping', () => {
  it('keeps ordinary words readable', () => {
    expect(inlineText('Add a remove function')).toBe('Add a remove function');
    expect(inlineText('- 1. starts like a list')).toBe('\\- 1. starts like a list');
    expect(inlineText('2) second')).toBe('2\\) second');
  });

  it('never lets a code span be closed early', () => {
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
  });

  it('turns any text into inline text with no HTML, mention, reference or line break', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => {
        const out = inlineText(text);
        expect(out).not.toMatch(/[\n\r]/);
        expect(out).not.toMatch(/(^|[^\\])[<>`*_[\]|]/);
        expect(out).not.toMatch(/@[A-Za-z0-9]/);
        expect(out).not.toMatch(/(?<!&)#\d/);
      }),
    );
  });

  it('keeps every line of a quoted block inside the quote', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        for (const line of quotedBlock(text).split('\n')) expect(line === '>' || line.startsWith('> ')).toBe(true);
      }),
    );
  });
});
