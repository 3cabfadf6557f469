/**
 * The pack's charts as static SVG: no script, no external font or stylesheet, so the report
 * renders the same offline and in an archive years later. Each chart carries a title and a
 * description for screen readers; the numbers are also in the report's tables.
 */
import type { DayContinuity } from './continuity';
import { escapeXml } from './html';

export interface BarChart {
  id: string;
  title: string;
  description: string;
  unit: string;
  bars: { label: string; value: number | null }[];
}

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 56, right: 12, top: 16, bottom: 40 };

/** A readable number for an axis: 1, 2.5, 1200, 3.4k. */
function tick(v: number): string {
  if (v >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** A bar per day; a missing value (no data) is drawn as a hatched gap, never as zero. */
export function barChartSvg(chart: BarChart): string {
  const values = chart.bars.map((b) => b.value ?? 0);
  const max = Math.max(1, ...values);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const n = Math.max(1, chart.bars.length);
  const step = plotW / n;
  const barW = Math.max(1, step * 0.8);
  const labelEvery = Math.max(1, Math.ceil(n / 12));
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - frac);
    parts.push(
      `<line x1="${String(PAD.left)}" x2="${String(WIDTH - PAD.right)}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ccc"/>`,
      `<text x="${String(PAD.left - 6)}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeXml(tick(max * frac))}</text>`,
    );
  }
  chart.bars.forEach((b, i) => {
    const x = PAD.left + i * step + (step - barW) / 2;
    if (b.value === null) {
      parts.push(
        `<rect class="nodata" x="${x.toFixed(1)}" y="${String(PAD.top)}" width="${barW.toFixed(1)}" height="${String(plotH)}" fill="url(#${chart.id}-hatch)"><title>${escapeXml(`${b.label}: no data`)}</title></rect>`,
      );
    } else {
      const h = (b.value / max) * plotH;
      parts.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="#2b5797"><title>${escapeXml(`${b.label}: ${tick(b.value)} ${chart.unit}`)}</title></rect>`,
      );
    }
    if (i % labelEvery === 0) {
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${String(HEIGHT - PAD.bottom + 16)}" text-anchor="middle" font-size="10">${escapeXml(b.label.slice(5))}</text>`,
      );
    }
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${chart.id}" viewBox="0 0 ${String(WIDTH)} ${String(HEIGHT)}" width="${String(WIDTH)}" height="${String(HEIGHT)}" role="img" aria-labelledby="${chart.id}-title ${chart.id}-desc" font-family="sans-serif">`,
    `<title id="${chart.id}-title">${escapeXml(chart.title)}</title>`,
    `<desc id="${chart.id}-desc">${escapeXml(chart.description)}</desc>`,
    `<defs><pattern id="${chart.id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#d9822b" stroke-width="2"/></pattern></defs>`,
    ...parts,
    `<text x="${String(PAD.left)}" y="${String(HEIGHT - 6)}" font-size="11">${escapeXml(`${chart.unit} per day (UTC)`)}</text>`,
    '</svg>',
  ].join('\n');
}

/** Records written per day. */
export function recordsPerDayChart(days: readonly DayContinuity[]): string {
  return barChartSvg({
    id: 'chart-records',
    title: 'Records per day',
    description: `Evidence records written on each of ${String(days.length)} days of the period.`,
    unit: 'records',
    bars: days.map((d) => ({ label: d.date, value: d.records })),
  });
}

/** The longest wait from a record's write to its seal, per day; no records = no data. */
export function sealLagChart(days: readonly DayContinuity[]): string {
  return barChartSvg({
    id: 'chart-seal-lag',
    title: 'Seal lag per day (longest, minutes)',
    description:
      'For the records written each day, the longest time until the seal that covers them was signed; hatched days had no records.',
    unit: 'minutes',
    bars: days.map((d) => ({
      label: d.date,
      value: d.maxSealLagSeconds === null ? null : d.maxSealLagSeconds / 60,
    })),
  });
}
