// The cell's dashboards as CloudWatch will render them: each graph is one GetMetricData request,
// and CloudWatch runs at most one Metrics Insights query per request — a widget with two shows an
// error instead of a graph. The bodies are read from the synthesized templates, resolved to JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { listCustomerIds } from '../../infra/config/customer-config';
import { removeTempDirs, stackTemplates, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

interface DashboardWidget {
  type: string;
  properties: { title?: string; metrics?: unknown[][] };
}
interface Dashboard {
  name: string;
  widgets: DashboardWidget[];
}

/**
 * A DashboardBody is a Fn::Join of text and intrinsics (the region, resource names); the
 * intrinsics stand inside JSON strings, so a placeholder word keeps the joined text valid JSON.
 */
function resolveDashboardBody(body: unknown): { widgets: DashboardWidget[] } {
  if (typeof body === 'string') return JSON.parse(body) as { widgets: DashboardWidget[] };
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`DashboardBody is neither text nor Fn::Join: ${JSON.stringify(body).slice(0, 200)}`);
  const [separator, parts] = join;
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'resolved-intrinsic')).join(separator)) as { widgets: DashboardWidget[] };
}

/** The Metrics Insights queries of a widget: expressions that are SELECT statements. */
function insightsQueries(widget: DashboardWidget): string[] {
  return (widget.properties.metrics ?? [])
    .flatMap((entry) => entry.filter((item): item is { expression: string } => typeof item === 'object' && item !== null && 'expression' in item))
    .map((item) => item.expression)
    .filter((expression) => /^\s*SELECT\b/i.test(expression));
}

const dashboards: Dashboard[] = [];

beforeAll(() => {
  const built = buildApp({ outdir: tempOutdir('dashboards'), context: testContext(), customerIds: [listCustomerIds()[0]!], builtinCloudFormationValidation: false });
  built.app.synth();
  for (const cell of built.cells) {
    for (const template of stackTemplates(cell.stacks)) {
      for (const resource of Object.values(template.json.Resources)) {
        if (resource.Type !== 'AWS::CloudWatch::Dashboard') continue;
        const properties = resource.Properties as { DashboardName: string; DashboardBody: unknown };
        dashboards.push({ name: properties.DashboardName, widgets: resolveDashboardBody(properties.DashboardBody).widgets });
      }
    }
  }
});

describe('dashboards', () => {
  it('are both synthesized with their graphs', () => {
    expect(dashboards.map((d) => d.name.split('-').at(-1)).sort()).toEqual(['behaviour', 'cost']);
    for (const dashboard of dashboards) expect(dashboard.widgets.filter((w) => w.type === 'metric').length, dashboard.name).toBeGreaterThan(5);
  });

  it('hold at most one Metrics Insights query per graph', () => {
    const offending = dashboards.flatMap((dashboard) =>
      dashboard.widgets
        .filter((widget) => insightsQueries(widget).length > 1)
        .map((widget) => `${dashboard.name} / ${widget.properties.title}: ${insightsQueries(widget).join(' | ')}`),
    );
    expect(offending).toEqual([]);
  });

  it('put infrastructure cost beside token cost on the Cost dashboard', () => {
    const cost = dashboards.find((d) => d.name.endsWith('-cost'))!;
    const widget = cost.widgets.find((w) => /infrastructure vs tokens/i.test(w.properties.title ?? ''));
    expect(widget && insightsQueries(widget)).toEqual(['SELECT SUM(GoalCostUsd) FROM SCHEMA(Cahoots, kind, service) GROUP BY kind']);
  });
});
