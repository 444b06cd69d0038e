// Prompt caching through the agent loop: the same scripted 20-turn developer task run with
// today's layout (system prompt and context prefix cached) and with rolling cache points on the
// conversation, against the fake Converse server that bills tokens as Bedrock's prompt cache
// does, priced from the model price table.
import { runDeveloperLoop, DEVELOPER_LOOP_MODEL, type DeveloperLoopResult } from '../test/support/developer-loop';

export interface PromptCacheComparison {
  model: string;
  prefixOnly: DeveloperLoopResult;
  rolling: DeveloperLoopResult;
}

export async function comparePromptCacheLayouts(): Promise<PromptCacheComparison> {
  const prefixOnly = await runDeveloperLoop({ cachePolicy: 'prefix-only' });
  const rolling = await runDeveloperLoop({ cachePolicy: 'rolling' });
  return { model: DEVELOPER_LOOP_MODEL, prefixOnly, rolling };
}

/** The comparison as printed lines, with the targets of the cache work (≥ 85 % read, ≥ 2.5× cheaper). */
export function renderPromptCacheComparison(c: PromptCacheComparison): string[] {
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  const row = (label: string, r: DeveloperLoopResult) => [
    label,
    String(r.calls.length),
    String(r.inputTokens),
    String(r.cacheReadTokens),
    String(r.cacheWriteTokens),
    String(r.outputTokens),
    pct(r.readShare),
    `$${r.costUsd.toFixed(4)}`,
  ];
  const header = ['layout', 'calls', 'input', 'cache read', 'cache write', 'output', 'read share', 'cost'];
  const rows = [row('prefix only (before)', c.prefixOnly), row('rolling (now)', c.rolling)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const ratio = c.prefixOnly.costUsd / c.rolling.costUsd;
  return [
    `Prompt caching on a 20-turn developer task (${c.model}, fake Converse server with Bedrock's cache billing)`,
    '',
    fmt(header),
    ...rows.map(fmt),
    '',
    `read share ${pct(c.rolling.readShare)} (target ≥ 85%) · cost ${ratio.toFixed(2)}× lower than before (target ≥ 2.5×)`,
  ];
}
