/**
 * The pack's human-readable report: one static, self-contained HTML page (inline CSS, inline
 * SVG charts, no script, nothing fetched), with a section per question an auditor asks. It
 * holds hashes, ids and dates only: the export carries no document content in clear.
 */
import type { EvidencePack } from './types';
import type { ControlChange } from './changes';
import type { PackEvent } from './events';
import { escapeXml as e } from './html';

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1a1a;margin:0 auto;max-width:1100px;padding:1.5rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #2b5797;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#eef2f8}code,.hash{font-family:ui-monospace,Menlo,monospace;font-size:.8rem;word-break:break-all}
.ok{color:#196b24;font-weight:600}.fail{color:#a4262c;font-weight:600}.note{color:#555}
nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:0;list-style:none}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#444}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem}
@media print{nav{display:none}}
`;

const COMPONENT_LABELS: Record<string, string> = {
  model: 'Model',
  prompt: 'System prompt',
  schema: 'Schema version',
  post_processing: 'Post-processing steps',
};

export function componentLabel(component: string): string {
  return COMPONENT_LABELS[component] ?? `Configuration: ${component}`;
}

const EVENT_LABELS: Record<string, string> = {
  content_access: 'Break-glass access',
  subprocessor_notice: 'Sub-processor notice',
  subprocessor_objection: 'Sub-processor objection',
  key_rotation: 'Key rotation',
  erasure: 'Erasure',
  offboarding: 'Offboarding',
  configuration: 'Configuration',
};

export const eventLabel = (kind: string) => EVENT_LABELS[kind] ?? kind;

function value(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map((x) => value(x)).join(', ');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function table(headers: string[], rows: string[][], caption?: string): string {
  if (rows.length === 0) return '<p class="note">None in the period.</p>';
  return [
    '<table>',
    caption === undefined ? '' : `<caption class="note">${e(caption)}</caption>`,
    `<thead><tr>${headers.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

const td = (text: string, cls?: string) =>
  `<td${cls === undefined ? '' : ` class="${cls}"`}>${e(text)}</td>`;

function changeText(c: ControlChange): string {
  const what = componentLabel(c.component);
  const where = c.source === 'extraction' ? ` (schema ${c.scope})` : ' (platform)';
  return c.from === null
    ? `${what}${where} first seen: ${c.to}`
    : `${what}${where} changed: ${c.from} → ${c.to}`;
}

function detailsList(d: Record<string, unknown>): string {
  const entries = Object.entries(d);
  if (entries.length === 0) return '—';
  return entries.map(([k, v]) => `${k}: ${value(v)}`).join('; ');
}

function eventRows(events: PackEvent[]): string[][] {
  return events.map((ev) => [
    td(ev.at),
    td(eventLabel(ev.kind)),
    td(ev.subject === null ? '—' : `${ev.subject.type} ${ev.subject.id}`),
    td(detailsList(ev.details)),
    `<td class="hash">${e(ev.id)}</td>`,
  ]);
}

/** Break-glass reads with the fields a reviewer checks: who, under which grant, approved by whom. */
function accessRows(events: PackEvent[]): string[][] {
  return events.map((ev) => [
    td(ev.at),
    td(value(ev.details.requester)),
    td(value(ev.details.approvers)),
    td(value(ev.details.ticket)),
    td(ev.subject === null ? '—' : `${ev.subject.type} ${ev.subject.id}`),
    td(value(ev.details.objects)),
    `<td class="hash">${e(value(ev.details.grantId))}</td>`,
    `<td class="hash">${e(ev.id)}</td>`,
  ]);
}

export function renderReport(
  pack: EvidencePack,
  charts: { recordsPerDay: string; sealLag: string },
): string {
  const s = pack.summary;
  const c = s.continuity;
  const sections: [id: string, title: string][] = [
    ['verification', 'Seal verification'],
    ['continuity', 'Continuity'],
    ['changes', 'Control change log'],
    ['sample', 'Sample of extractions'],
    ['access', 'Break-glass access review'],
    ['notices', 'Sub-processor notices'],
    ['keys', 'Key events'],
    ['other', 'Other events'],
  ];
  const verdict = s.verification.ok
    ? '<p class="ok">Every seal, record and link verified under the trust root.</p>'
    : '<p class="fail">Verification FAILED: see the problems below.</p>';
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(`Evidence pack: ${s.tenantId}, ${s.period.from} to ${s.period.to}`)}</title>`,
    `<style>${CSS}</style></head><body>`,
    '<a class="skip" href="#main">Skip to the report</a>',
    '<header>',
    `<h1>Evidence pack: ${e(s.tenantId)}</h1>`,
    `<p>Period <strong>${e(s.period.from)}</strong> (inclusive) to <strong>${e(s.period.to)}</strong> (exclusive). Generated ${e(s.generatedAt)} from <code>${e(s.location)}</code>.</p>`,
    `<p>Trust root <code>${e(s.trustRoot.fingerprint)}</code>. Sample seed <code>${e(s.seed)}</code>.</p>`,
    '<nav aria-label="Sections"><ul>',
    ...sections.map(([id, title]) => `<li><a href="#${id}">${e(title)}</a></li>`),
    '</ul></nav></header><main id="main">',

    `<section id="verification" aria-labelledby="verification-h"><h2 id="verification-h">Seal verification</h2>`,
    verdict,
    table(
      ['Log', 'Result', 'Seals', 'Records', 'Tree size', 'Root', 'Coverage'],
      s.verification.logs.map((l) => [
        td(l.tenantId),
        td(
          l.problemCount === 0 ? 'OK' : `${String(l.problemCount)} problem(s)`,
          l.problemCount === 0 ? 'ok' : 'fail',
        ),
        td(String(l.seals)),
        td(String(l.records)),
        td(String(l.treeSize)),
        `<td class="hash">${e(l.rootHash ?? '—')}</td>`,
        td(l.coverage === null ? '—' : `${l.coverage.from} .. ${l.coverage.to}`),
      ]),
    ),
    table(
      ['Log', 'Kind', 'Seal', 'Where', 'Problem'],
      s.verification.logs.flatMap((l) =>
        l.problems.map((p) => [
          td(l.tenantId),
          td(p.kind),
          td(p.seq === undefined ? '—' : String(p.seq)),
          `<td class="hash">${e(p.path ?? p.recordId ?? '—')}</td>`,
          td(p.message),
        ]),
      ),
      'Problems found by the verifier',
    ),
    '</section>',

    `<section id="continuity" aria-labelledby="continuity-h"><h2 id="continuity-h">Continuity</h2>`,
    `<p>${String(c.sealsInPeriod)} seals signed in the period (seq ${c.firstSeq === null ? '—' : String(c.firstSeq)} to ${c.lastSeq === null ? '—' : String(c.lastSeq)}), covering ${String(c.recordsInPeriod)} records written in it.</p>`,
    `<p>Sequence gaps: ${c.seqGaps.length === 0 ? '<span class="ok">none</span>' : `<span class="fail">${e(c.seqGaps.map((g) => `seals ${String(g.after + 1)}..${String(g.next - 1)} missing`).join('; '))}</span>`}.</p>`,
    `<p>Days without seals: ${
      c.daysWithoutSeals.length === 0
        ? 'none'
        : e(
            c.daysWithoutSeals
              .map(
                (d) =>
                  `${d.date}${d.recordsWritten > 0 ? ` (${String(d.recordsWritten)} records waited)` : ' (no records)'}`,
              )
              .join(', '),
          )
    }.</p>`,
    `<figure>${charts.recordsPerDay}<figcaption>Records per day.</figcaption></figure>`,
    `<figure>${charts.sealLag}<figcaption>Longest seal lag per day, in minutes.</figcaption></figure>`,
    table(
      ['Day', 'Records', 'Seals', 'Longest seal lag (s)', 'Median seal lag (s)'],
      c.days.map((d) => [
        td(d.date),
        td(String(d.records)),
        td(String(d.seals), d.seals === 0 ? 'fail' : undefined),
        td(d.maxSealLagSeconds === null ? '—' : d.maxSealLagSeconds.toFixed(1)),
        td(d.medianSealLagSeconds === null ? '—' : d.medianSealLagSeconds.toFixed(1)),
      ]),
      'Per day (UTC)',
    ),
    '</section>',

    `<section id="changes" aria-labelledby="changes-h"><h2 id="changes-h">Control change log</h2>`,
    '<p class="note">Every change of model, system prompt, schema version, post-processing step or platform configuration inside the period, dated by the first record that shows it.</p>',
    table(
      ['When', 'Component', 'Scope', 'Change', 'First record'],
      pack.changes.map((ch) => [
        td(ch.at),
        td(componentLabel(ch.component)),
        td(ch.source === 'extraction' ? `schema ${ch.scope}` : 'platform'),
        `<td class="change">${e(changeText(ch))}</td>`,
        `<td class="hash">${e(ch.recordId)}</td>`,
      ]),
    ),
    '</section>',

    `<section id="sample" aria-labelledby="sample-h"><h2 id="sample-h">Sample of extractions</h2>`,
    `<p>${String(s.counts.sample)} of ${String(s.counts.extractions)} extractions, chosen by seed <code>${e(s.seed)}</code>; ${String(s.counts.sampleVerified)} verified (content hash, inclusion proof, seal signature under the trust root). Tuples and proofs are in <code>sample.jsonl</code>.</p>`,
    table(
      ['Written', 'Evidence id', 'Model', 'Schema', 'Leaf', 'Seal', 'Proof'],
      pack.sample.map((x) => {
        const r = x.receipt.record;
        const model = r.kind === 'extraction' ? `${r.model.provider}/${r.model.modelVersion}` : '—';
        const schema =
          r.kind === 'extraction' ? `${r.output.schema} v${String(r.output.schemaVersion)}` : '—';
        return [
          td(x.createdAt),
          `<td class="hash">${e(x.evidenceId)}</td>`,
          td(model),
          td(schema),
          td(String(x.receipt.leafIndex)),
          td(String(x.receipt.seal.seq)),
          td(
            x.verified
              ? 'verified'
              : `FAILED: ${x.checks
                  .filter((k) => !k.ok)
                  .map((k) => k.check)
                  .join(', ')}`,
            x.verified ? 'ok' : 'fail',
          ),
        ];
      }),
    ),
    '</section>',

    `<section id="access" aria-labelledby="access-h"><h2 id="access-h">Break-glass access review</h2>`,
    table(
      ['When', 'Requester', 'Approvers', 'Ticket', 'Resource', 'Objects', 'Grant', 'Record'],
      accessRows(pack.access),
    ),
    '</section>',

    `<section id="notices" aria-labelledby="notices-h"><h2 id="notices-h">Sub-processor notices</h2>`,
    '<p class="note">Notices of sub-processor changes delivered to subscribers, and objections received, as sealed in the log.</p>',
    table(['When', 'Event', 'Subject', 'Details', 'Record'], eventRows(pack.notices)),
    '</section>',

    `<section id="keys" aria-labelledby="keys-h"><h2 id="keys-h">Key events</h2>`,
    table(['When', 'Event', 'Subject', 'Details', 'Record'], eventRows(pack.keys)),
    '</section>',

    `<section id="other" aria-labelledby="other-h"><h2 id="other-h">Other events</h2>`,
    table(['When', 'Event', 'Subject', 'Details', 'Record'], eventRows(pack.other)),
    '</section>',
    '</main>',
    '<footer><p class="note">Machine-readable files beside this report: summary.json, changes.json, sample.jsonl, access.json, notices.json, keys.json, other-events.json; manifest.json lists the SHA-256 of each.</p></footer>',
    '</body></html>',
    '',
  ];
  return html.join('\n');
}
