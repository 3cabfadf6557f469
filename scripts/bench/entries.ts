/**
 * One benchmark figure as `.local/bench.json` holds it: `{name, value, unit, baseline?, ratio?}`.
 * A ratio figure carries its value as the ratio (ours against the raw baseline measured in the
 * same run, higher is better) and `baseline` in milliseconds; `detail` says what was timed.
 */
export interface BenchEntry {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  detail?: string;
}

/** The figures as an aligned table for stdout. */
export function formatEntries(entries: BenchEntry[]): string[] {
  const rows = entries.map((e) => [
    e.name,
    e.value >= 100 ? e.value.toFixed(0) : e.value.toPrecision(3),
    e.unit,
    e.detail ?? '',
  ]);
  const header = ['figure', 'value', 'unit', 'what'];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.slice(0).map((r) => (i === 3 ? 0 : (r[i] ?? '').length))),
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 3 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(Math.max(w, 4)))), ...rows.map(line)];
}
