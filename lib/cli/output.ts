// The CLI's only way to the terminal. Commands write lines for people through `info` (stdout, or
// stderr when stdout is reserved for one JSON document) and machine output through `json`.
import type { Writable } from 'node:stream';

export interface OutputOptions {
  /** When true, human lines go to stderr and stdout carries only the final JSON document. */
  json?: boolean;
  stdout?: Writable;
  stderr?: Writable;
}

export class Output {
  readonly jsonMode: boolean;
  private readonly stdout: Writable;
  private readonly stderr: Writable;

  constructor(options: OutputOptions = {}) {
    this.jsonMode = options.json ?? false;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
  }

  /** A line for the person watching. */
  info(line = ''): void {
    (this.jsonMode ? this.stderr : this.stdout).write(`${line}\n`);
  }

  /** Something went wrong or needs attention; always stderr. */
  error(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** The one machine-readable document of a command, on stdout. */
  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A question on the terminal; always stderr so it never mixes into a JSON document. */
  prompt(text: string): void {
    this.stderr.write(text);
  }

  /** Waits until what was written has left the process, so an exit right after loses nothing. */
  async flush(): Promise<void> {
    await Promise.all([drain(this.stdout), drain(this.stderr)]);
  }
}

function drain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writableNeedDrain) resolve();
    else stream.once('drain', () => resolve());
  });
}
