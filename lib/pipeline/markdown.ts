// Text we did not write (goal titles, model output, file names) placed into Markdown that GitHub
// renders: it must read as the plain text it is. No HTML, no links or images it did not have as
// text, no `@someone` that notifies a stranger, no `fixes #12` that closes an issue on merge.

// A zero-width space written as an entity: GitHub's mention and issue-reference filters look at
// the rendered text, where `@` or `#` followed by this character no longer starts a reference.
const BREAK = '&#8203;';

// ASCII punctuation that means something in CommonMark/GFM inline text (emphasis, code, links,
// images, HTML, entities, tables, strikethrough, autolinks). A backslash makes each one literal.
const INLINE_SPECIAL = /[\\`*_{}[\]()<>|~!&$]/g;

// What would turn the start of a line into a heading, list item, quote, rule, fence or setext underline.
const LINE_START_SPECIAL = /^(\s*)([#>+=-]|\d+[.)])/;

function neutralizeReferences(escaped: string): string {
  return (
    escaped
      // `#12`, `owner/repo#12`, `GH-12`: issue and pull request references (and closing keywords).
      // First, so the `#` of the entity inserted for `@` below is not taken for one.
      .replace(/#(?=\d)/g, `#${BREAK}`)
      // `@user`, `@org/team`: after any character, since GitHub also links `(@user)`.
      .replace(/@(?=[A-Za-z0-9])/g, `@${BREAK}`)
      .replace(/\b(GH)-(?=\d)/gi, `$1-${BREAK}`)
  );
}

function escapeLine(line: string): string {
  const escaped = line.replace(INLINE_SPECIAL, (c) => `\\${c}`).replace(LINE_START_SPECIAL, (_all, space: string, marker: string) => {
    // A list number like `1.` keeps its digits; only its delimiter is escaped.
    return /^\d/.test(marker) ? `${space}${marker.slice(0, -1)}\\${marker.slice(-1)}` : `${space}\\${marker}`;
  });
  return neutralizeReferences(escaped);
}

/** Untrusted text as one line of literal Markdown inline text (line breaks become spaces), at most `max` characters of it. */
export function inlineText(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return escapeLine(clip(oneLine, max));
}

/**
 * Untrusted multi-line text as a block quote of literal text: each line escaped and quoted, so
 * nothing in it can close the quote, open a code fence or start a heading of its own.
 */
export function quotedBlock(text: string, max = 4_000): string {
  const lines = clip(text.replace(/\r\n?/g, '\n').trim(), max).split('\n');
  return lines.map((line) => (line.trim() === '' ? '>' : `> ${escapeLine(line)}`)).join('\n');
}

/**
 * Untrusted text shown as code (a file path, a command): a code span whose backtick fence is
 * longer than any run of backticks inside it, so it cannot be closed early. Code spans render
 * neither HTML nor mentions. Not for table cells, which split on `|` even inside a code span.
 */
export function codeSpan(text: string, max = 300): string {
  const oneLine = clip(text.replace(/\s+/g, ' ').trim(), max);
  const longestRun = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') || oneLine === '' ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}
