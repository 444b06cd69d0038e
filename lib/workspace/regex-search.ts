// Regular-expression matching off the main thread. JavaScript regexes backtrack, so a pattern such
// as (a+)+$ can run for minutes on one short line, and nothing can interrupt it on the thread that
// runs it. search_files therefore matches in a worker thread under a deadline: the event loop (the
// API, every other goal) stays free, and a search that overruns is ended by terminating the worker.
import { Worker } from 'node:worker_threads';
import { logger } from '../powertools';
import { SearchTimeoutError } from './errors';

// Plain JavaScript evaluated as the worker's script, so it runs the same from TypeScript sources,
// from tests and from a bundled Lambda (no second entry file to locate or bundle).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pattern = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', ({ id, text, limit }) => {
  const lines = text.split('\\n');
  const found = [];
  for (let i = 0; i < lines.length && found.length < limit; i += 1) {
    let line = lines[i];
    if (line.endsWith('\\r')) line = line.slice(0, -1);
    if (line.length > workerData.maxLineChars) line = line.slice(0, workerData.maxLineChars);
    if (pattern.test(line)) found.push(i);
  }
  parentPort.postMessage({ id, found });
});
`;

interface Pending {
  resolve(lines: number[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export interface RegexLineMatcherOptions {
  /** Budget for all matching done by this matcher, from its creation. */
  timeoutMs: number;
  /** Each line is matched on at most this many characters. */
  maxLineChars: number;
}

/**
 * Matches one compiled pattern against file texts in a worker thread. One matcher serves one
 * search: create it, ask for the matching lines of each file, close it. The pattern must already
 * be known to compile (compile it on the caller's side to report syntax errors there).
 */
export class RegexLineMatcher {
  private readonly worker: Worker;
  private readonly deadline: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    private readonly pattern: RegExp,
    private readonly options: RegexLineMatcherOptions,
  ) {
    this.deadline = Date.now() + options.timeoutMs;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source: pattern.source, flags: pattern.flags, maxLineChars: options.maxLineChars },
      // The worker needs nothing from the parent's environment, and a runaway pattern must not
      // take the process's memory with it.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', ({ id, found }: { id: number; found: number[] }) => {
      const request = this.pending.get(id);
      if (!request) return;
      this.pending.delete(id);
      clearTimeout(request.timer);
      request.resolve(found);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the search worker stopped unexpectedly (exit code ${code})`)));
  }

  /** 0-based indexes of the lines of `text` that match, at most `limit` of them. */
  matchingLines(text: string, limit: number): Promise<number[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<number[]>((resolve, reject) => {
      const remaining = Math.max(0, this.deadline - Date.now());
      const timer = setTimeout(() => {
        this.fail(new SearchTimeoutError(this.pattern.source, this.options.timeoutMs));
        this.worker.terminate().catch((error: unknown) => logger.warn('search worker could not be stopped', { error: error as Error }));
      }, remaining);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ id, text, limit });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the search has ended');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(this.failure);
    }
    this.pending.clear();
  }
}
