/**
 * Where in a document a value was read (ground-quotes@3). Every step version that uses this
 * module is pinned to what it does today: a change of behaviour here is a new step version
 * whose old one keeps its own copy.
 *
 * A value is looked for as a whole token (never `5` inside `0457` or `10` inside `10.86`);
 * each place it occurs is scored by how well its surroundings name the field (a label before
 * it on its line, its table column's header, a label alone on the line above), and the cells
 * of one table row are looked for on one line. The best place wins; when several fit equally,
 * the value is `ambiguous`, never grounded by guess.
 */
import { ISO_4217, NUMBER_TOKEN, numberReadings } from './money';
import type { SourceSpan } from './types';

export interface Span {
  start: number;
  end: number;
}

/** The source of `span`, named by its PDF page when the text has pages (form feeds). */
export function sourceAt(documentText: string, span: Span): SourceSpan {
  const source: SourceSpan = {
    text: documentText.slice(span.start, span.end),
    start: span.start,
    end: span.end,
  };
  if (!documentText.includes('\f')) return source;
  let page = 1;
  for (let i = documentText.indexOf('\f'); i !== -1 && i < span.start;) {
    page++;
    i = documentText.indexOf('\f', i + 1);
  }
  return { ...source, page };
}

/** One value to locate. */
export interface Target {
  /** How to find its places: the quote (or value) as text, or a number by its value. */
  find: { text: string; caseInsensitive?: boolean } | { number: number };
  /** Names a document may print before it or above its column, lowercase words. */
  labels: readonly string[];
  /** The table row it belongs to: rows of one `group` are read top to bottom. */
  row?: { group: string; index: number };
}

export type Location =
  { kind: 'grounded'; span: Span } | { kind: 'ambiguous'; spans: Span[] } | { kind: 'missing' };

const ALNUM = /[\p{L}\p{N}]/u;

/** The document's text with its line starts, for the line of an offset. */
class DocumentLines {
  readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
      this.starts.push(i + 1);
    }
  }

  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  line(index: number): string {
    const start = this.starts[index] ?? this.text.length;
    const next = this.starts[index + 1];
    return this.text.slice(start, next === undefined ? this.text.length : next - 1);
  }

  lineStart(index: number): number {
    return this.starts[index] ?? this.text.length;
  }
}

/**
 * True when `text[start, end)` is a whole token: no letter or digit runs on across either end,
 * and a number is not the integer or fraction part of a larger one (`4` in `4.50`).
 */
function isWholeToken(text: string, start: number, end: number): boolean {
  const first = text[start] ?? '';
  const last = text[end - 1] ?? '';
  const before = text[start - 1] ?? '';
  const after = text[end] ?? '';
  if (ALNUM.test(first) && ALNUM.test(before)) return false;
  if (ALNUM.test(last) && ALNUM.test(after)) return false;
  if (/\d/.test(first) && /[.,]/.test(before) && /\d/.test(text[start - 2] ?? '')) return false;
  if (/\d/.test(last) && /[.,]/.test(after) && /\d/.test(text[end + 1] ?? '')) return false;
  return true;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whole-token places of `needle`; a run of whitespace in it matches any run in the text. */
export function wholeTokenPlaces(text: string, needle: string, caseInsensitive = false): Span[] {
  const trimmed = needle.trim();
  if (trimmed === '') return [];
  const pattern = trimmed.split(/\s+/u).map(escapeRegExp).join('\\s+');
  const spans: Span[] = [];
  for (const match of text.matchAll(new RegExp(pattern, caseInsensitive ? 'giu' : 'gu'))) {
    const start = match.index;
    const end = start + match[0].length;
    if (isWholeToken(text, start, end)) spans.push({ start, end });
  }
  return spans;
}

/** Whole-token places of numbers that read as `value`. */
export function numberPlaces(text: string, value: number): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(NUMBER_TOKEN)) {
    const start = match.index;
    const end = start + match[0].length;
    if (!isWholeToken(text, start, end)) continue;
    if (numberReadings(match[0]).some((n) => Math.abs(n - value) < 1e-9)) {
      spans.push({ start, end });
    }
  }
  return spans;
}

/** Lowercase words, brackets dropped, `No`/`Nr`/`#` read as `number`: how labels compare. */
export function labelWords(text: string): string {
  return text
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .replace(/#/g, ' number ')
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}%]+/u)
    .filter((w) => w !== '')
    .map((w) => (['no', 'nr', 'num', 'nbr'].includes(w) ? 'number' : w))
    .join(' ');
}

/**
 * The labels a schema gives a field: its name in words (`unitPrice` → `unit price`) and the
 * synonyms its description lists as `Labels: Unit Price, Price.`.
 */
export function fieldLabels(name: string, description: unknown): string[] {
  const labels = [labelWords(name)];
  if (typeof description === 'string') {
    const list = /\blabels?\s*:\s*([\s\S]*?)(?:\.(?=\s|$)|$)/i.exec(description)?.[1];
    for (const label of list?.split(',') ?? []) labels.push(labelWords(label));
  }
  return [...new Set(labels.filter((l) => l !== ''))];
}

/** 3: `segment` is one of the labels; 2: it starts or ends with one; 0: neither. */
function labelFit(segment: string, labels: readonly string[]): number {
  const words = labelWords(segment);
  if (words === '') return 0;
  let best = 0;
  for (const label of labels) {
    if (words === label) return 3;
    if (words.startsWith(`${label} `) || words.endsWith(` ${label}`)) best = 2;
  }
  return best;
}

const TRAILING_PUNCTUATION = /[\s:#=.\-–—]*$/u;

/**
 * The label part of the text before a value in its cell: without the punctuation and the
 * currency sign or code that may stand between a label and its value (`Total: EUR`).
 */
function labelPart(lead: string): string {
  let rest = lead.replace(TRAILING_PUNCTUATION, '');
  const mark = /(?:^|[\s:#=])(US\$|\p{Sc}|[A-Z]{3})$/u.exec(rest);
  const code = mark?.[1];
  if (mark && code !== undefined && (code.length === 1 || code === 'US$' || ISO_4217.has(code))) {
    rest = rest
      .slice(0, mark.index + mark[0].length - code.length)
      .replace(TRAILING_PUNCTUATION, '');
  }
  return rest;
}

/** Where a cell of a line ends: a `|`, a tab, or a gap of two spaces or more. */
const CELL_SEPARATOR = /\||\t| {2,}/g;

/** The cells of a `|`- or tab-separated line, without the empty ones its borders make. */
function cells(line: string): string[] {
  return line
    .split(/\||\t/)
    .map((c) => c.trim())
    .filter((c, i, all) => !(c === '' && (i === 0 || i === all.length - 1)));
}

function isTableLine(line: string): boolean {
  return /\||\t/.test(line) && cells(line).length >= 2;
}

function isSeparatorRow(line: string): boolean {
  return /^[\s|:=+-]+$/.test(line) && line.includes('-');
}

/** A cell of a line whose columns are aligned with runs of spaces, and where it lies. */
interface AlignedCell {
  text: string;
  start: number;
  end: number;
}

function alignedCells(line: string): AlignedCell[] {
  const found: AlignedCell[] = [];
  for (const m of line.matchAll(/\S+(?: \S+)*/g)) {
    found.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return found;
}

/** Columns aligned with spaces (`Steel bolts M8     100     0.25`), as PDF text layers print. */
function isAlignedLine(line: string): boolean {
  return !/\||\t/.test(line) && / {2,}\S/.test(line.trim()) && alignedCells(line).length >= 2;
}

/** The kinds of table a header is looked for in, each with its memo of block tops. */
interface TableMemo {
  piped: Map<number, number | undefined>;
  aligned: Map<number, number | undefined>;
}

/** The first line of the table block that ends at line `index` (its header), memoized. */
function tableTop(
  doc: DocumentLines,
  index: number,
  inTable: (line: string) => boolean,
  memo: Map<number, number | undefined>,
): number | undefined {
  let first: number | undefined;
  const path: number[] = [];
  for (let i = index; i >= 0; i--) {
    if (memo.has(i)) {
      first = memo.get(i);
      break;
    }
    const line = doc.line(i);
    if (!inTable(line) && !isSeparatorRow(line)) break;
    path.push(i);
  }
  // Walked from `index` up: the topmost table line (not a separator row) seen is the header.
  for (const j of path.reverse()) {
    if (first === undefined && !isSeparatorRow(doc.line(j))) first = j;
    memo.set(j, first);
  }
  return first;
}

/** The header cell above columns `[start, end)`: the one overlapping most, else the nearest. */
function headerAbove(header: string, start: number, end: number): string | undefined {
  let best: { text: string; overlap: number; distance: number } | undefined;
  for (const cell of alignedCells(header)) {
    const overlap = Math.min(end, cell.end) - Math.max(start, cell.start);
    const distance = overlap > 0 ? 0 : Math.max(cell.start - end, start - cell.end);
    if (
      best === undefined ||
      overlap > best.overlap ||
      (overlap === best.overlap && distance < best.distance)
    ) {
      best = { text: cell.text, overlap, distance };
    }
  }
  return best?.text;
}

/** How well the place `span` is labelled as a field with `labels` (0-3). */
function labelScore(
  doc: DocumentLines,
  span: Span,
  labels: readonly string[],
  memo: TableMemo,
): number {
  const lineIndex = doc.lineOf(span.start);
  const line = doc.line(lineIndex);
  const column = span.start - doc.lineStart(lineIndex);
  const before = line.slice(0, column);
  // The text before it in its own cell (`Total:` in `Total: 144.00`, `Due: 2026-04-11`).
  let cellStart = 0;
  for (const m of before.matchAll(CELL_SEPARATOR)) cellStart = m.index + m[0].length;
  const segment = labelPart(before.slice(cellStart));
  if (segment.trim() !== '') return labelFit(segment, labels);
  // A cell's labels: its column's header, and the cell before it when that ends with a colon
  // (`Due:      2026-04-11`), else the first cell of its row (`| Total | 9.00 |`).
  const fit = (header: string | undefined, rowName: string | undefined, previous?: string) => {
    const name = previous?.trimEnd().endsWith(':') ? labelPart(previous) : rowName;
    return Math.max(
      header === undefined ? 0 : labelFit(header, labels),
      name === undefined ? 0 : labelFit(name, labels),
    );
  };
  if (isTableLine(line)) {
    const index = cells(before + '\u0000').length - 1;
    const top = lineIndex > 0 ? tableTop(doc, lineIndex - 1, isTableLine, memo.piped) : undefined;
    const header = top === undefined ? undefined : cells(doc.line(top))[index];
    const row = cells(line);
    return fit(header, index > 0 ? row[0] : undefined, row[index - 1]);
  }
  if (isAlignedLine(line)) {
    // The same for columns aligned with spaces: the header cell right above it.
    const top =
      lineIndex > 0 ? tableTop(doc, lineIndex - 1, isAlignedLine, memo.aligned) : undefined;
    const end = column + (span.end - span.start);
    const header = top === undefined ? undefined : headerAbove(doc.line(top), column, end);
    const earlier = alignedCells(line).filter((c) => c.end <= column);
    return fit(header, earlier[0]?.text, earlier.at(-1)?.text);
  }
  // A label alone on the line above (`Total` / `144.00`).
  for (let i = lineIndex - 1; i >= 0; i--) {
    const above = doc.line(i).trim();
    if (above === '') continue;
    return labelFit(above.replace(/[:\s]+$/, ''), labels) === 3 ? 3 : 0;
  }
  return 0;
}

function places(doc: DocumentLines, target: Target, cache: Map<string, Span[]>): Span[] {
  const { find } = target;
  const key =
    'number' in find
      ? `#${String(find.number)}`
      : `${find.caseInsensitive ? 'i' : 's'}${find.text}`;
  let spans = cache.get(key);
  if (spans === undefined) {
    spans =
      'number' in find
        ? numberPlaces(doc.text, find.number)
        : wholeTokenPlaces(doc.text, find.text, find.caseInsensitive);
    cache.set(key, spans);
  }
  return spans;
}

function signature(target: Target): string {
  return 'number' in target.find ? `#${String(target.find.number)}` : target.find.text;
}

const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;

/**
 * How many of a row's cells fit on one line at distinct, non-overlapping places (`3.00` printed
 * once holds one of two cells quoting `3.00`; the `1` of `Item 1` is not also the quantity).
 */
function cellsPlaced(members: Map<number, Span[]>): number {
  const used: Span[] = [];
  let placed = 0;
  const fewestFirst = [...members.values()].sort((a, b) => a.length - b.length);
  for (const spans of fewestFirst) {
    const free = spans.find((s) => !used.some((u) => overlaps(u, s)));
    if (free) {
      used.push(free);
      placed++;
    }
  }
  return placed;
}

/**
 * The line each table row was read from: the line after the previous row's holding the most of
 * its cells. Rows printed identically are taken in order; a row that fits several lines equally
 * (and is not one of such identical rows) gets none, and its cells are located on their own.
 */
function rowLines(
  doc: DocumentLines,
  targets: readonly Target[],
  found: readonly Span[][],
): Map<string, number> {
  const rows = new Map<string, { group: string; index: number; members: number[] }>();
  targets.forEach((t, i) => {
    if (!t.row) return;
    const key = `${t.row.group}\u0000${String(t.row.index)}`;
    const row = rows.get(key) ?? { group: t.row.group, index: t.row.index, members: [] };
    row.members.push(i);
    rows.set(key, row);
  });
  // Code-unit order, not localeCompare: a step must not depend on the runtime's ICU data.
  const ordered = [...rows.entries()].sort(([, a], [, b]) =>
    a.group === b.group ? a.index - b.index : a.group < b.group ? -1 : 1,
  );
  const sig = (members: number[]) =>
    members.map((i) => signature(targets[i] as Target)).join('\u0000');
  const anchors = new Map<string, number>();
  const previous = new Map<string, number>();
  ordered.forEach(([key, row], position) => {
    const after = previous.get(row.group) ?? -1;
    const byLine = new Map<number, Map<number, Span[]>>();
    for (const i of row.members) {
      for (const span of found[i] ?? []) {
        const line = doc.lineOf(span.start);
        if (line <= after) continue;
        const members = byLine.get(line) ?? new Map<number, Span[]>();
        members.set(i, [...(members.get(i) ?? []), span]);
        byLine.set(line, members);
      }
    }
    const count = new Map<number, number>();
    for (const [line, members] of byLine) count.set(line, cellsPlaced(members));
    const best = Math.max(0, ...count.values());
    if (best === 0) return;
    const tied = [...count.entries()]
      .filter(([, n]) => n === best)
      .map(([line]) => line)
      .sort((a, b) => a - b);
    let identical = 0;
    for (let j = position; j < ordered.length; j++) {
      const next = ordered[j]?.[1];
      if (next?.group !== row.group || sig(next.members) !== sig(row.members)) break;
      identical++;
    }
    const line = tied.length === 1 || tied.length <= identical ? tied[0] : undefined;
    if (line === undefined) return;
    anchors.set(key, line);
    previous.set(row.group, line);
  });
  return anchors;
}

/**
 * Locates every target in `text`. A place (or one overlapping it) that is another target's
 * unique best fit only breaks ties; it is never taken away from a target whose best fit it is.
 */
export function locate(text: string, targets: readonly Target[]): Location[] {
  const doc = new DocumentLines(text);
  const cache = new Map<string, Span[]>();
  const memo: TableMemo = { piped: new Map(), aligned: new Map() };
  const found = targets.map((t) => places(doc, t, cache));
  const anchors = rowLines(doc, targets, found);
  const best = targets.map((target, i) => {
    let spans = found[i] ?? [];
    if (target.row) {
      const anchor = anchors.get(`${target.row.group}\u0000${String(target.row.index)}`);
      const onRow = spans.filter((s) => doc.lineOf(s.start) === anchor);
      if (onRow.length > 0) spans = onRow;
    }
    const scored = spans.map((span) => ({
      span,
      score: labelScore(doc, span, target.labels, memo),
    }));
    const top = Math.max(-1, ...scored.map((s) => s.score));
    return scored.filter((s) => s.score === top).map((s) => s.span);
  });
  const taken = best.flatMap((spans) => (spans.length === 1 ? spans : []));
  return best.map((spans): Location => {
    const [only] = spans;
    if (only === undefined) return { kind: 'missing' };
    if (spans.length === 1) return { kind: 'grounded', span: only };
    const free = spans.filter((s) => !taken.some((t) => overlaps(t, s)));
    const [first] = free;
    if (first !== undefined && free.length === 1) return { kind: 'grounded', span: first };
    return { kind: 'ambiguous', spans: free.length > 0 ? free : spans };
  });
}
