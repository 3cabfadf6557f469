/**
 * The periodic access review (`provenant access-review --from --to`): every break-glass request
 * made in the period, its decisions, the grant it became and every read under it, as an HTML
 * report for the reviewer and a CSV for the records, with the anomalies a reviewer must look
 * at flagged on each request.
 */
import { StoredDecisionSchema, StoredRequestSchema, grantState } from './model';
import type { StoredDecision, StoredRequest } from './model';
import type { Services } from '../services';

/** One read under a grant, from its `content_access` evidence record. */
export interface GrantAccess {
  evidenceId: string;
  accessedAt: string;
  actorUid: string;
  resource: string;
}

export interface ReviewItem {
  request: StoredRequest;
  /** Every decision, self-approval attempts included. */
  decisions: StoredDecision[];
  accesses: GrantAccess[];
}

export const ANOMALIES = [
  'self_approval_attempt',
  'access_near_expiry',
  'scope_broader_than_used',
  'grant_never_used',
] as const;
export type Anomaly = (typeof ANOMALIES)[number];

/** A read in the last tenth of its grant's window is flagged as near expiry. */
export const NEAR_EXPIRY_FRACTION = 0.1;

export interface ReviewedRequest extends ReviewItem {
  status: string;
  activeFrom: string | null;
  expiresAt: string | null;
  anomalies: Anomaly[];
  /** Scope entries (`extraction:ex_…`, `document:…`, `evidence`) never read. */
  unused: string[];
}

export interface AccessReview {
  from: string;
  to: string;
  generatedAt: string;
  requests: ReviewedRequest[];
}

function scopeEntries(request: StoredRequest): string[] {
  return [
    ...(request.scope.extractionIds ?? []).map((id) => `extraction:${id}`),
    ...(request.scope.documentIds ?? []).map((id) => `document:${id}`),
    ...(request.scope.evidence ? ['evidence'] : []),
  ];
}

/** The review of `items` at `now`: statuses derived as the API derives them, anomalies flagged. */
export function reviewAccess(
  items: readonly ReviewItem[],
  period: { from: string; to: string },
  now: Date,
): AccessReview {
  const requests = items
    .map((item): ReviewedRequest => {
      const state = grantState(item.request, item.decisions, now);
      const anomalies: Anomaly[] = [];
      if (item.decisions.some((d) => d.kind === 'self_approval_attempt'))
        anomalies.push('self_approval_attempt');
      if (state.activeFrom !== null && state.expiresAt !== null) {
        const start = Date.parse(state.activeFrom);
        const end = Date.parse(state.expiresAt);
        const threshold = end - (end - start) * NEAR_EXPIRY_FRACTION;
        if (item.accesses.some((a) => Date.parse(a.accessedAt) >= threshold))
          anomalies.push('access_near_expiry');
      }
      const used = new Set(item.accesses.map((a) => a.resource));
      const unused = scopeEntries(item.request).filter((e) => !used.has(e));
      if (item.accesses.length > 0 && unused.length > 0) anomalies.push('scope_broader_than_used');
      // A grant that opened and closed without a read was access nobody needed.
      if (
        state.activeFrom !== null &&
        item.accesses.length === 0 &&
        (state.status === 'expired' || state.status === 'revoked')
      )
        anomalies.push('grant_never_used');
      return {
        ...item,
        status: state.status,
        activeFrom: state.activeFrom,
        expiresAt: state.expiresAt,
        anomalies,
        unused,
      };
    })
    .sort((a, b) => a.request.requestedAt.localeCompare(b.request.requestedAt));
  return { ...period, generatedAt: now.toISOString(), requests };
}

/** Reads every request made in `[from, to)` with its decisions and reads, across tenants. */
export async function loadAccessReview(
  services: Services,
  from: string,
  to: string,
  now: Date = new Date(),
): Promise<AccessReview> {
  const items: ReviewItem[] = [];
  for (const { requestId, tenantId } of await services.platform.listAccessRequestPointers(
    from,
    to,
  )) {
    const tenant = await services.platform.getTenant(tenantId);
    if (!tenant) continue;
    const db = services.platform.tenantDb(tenant);
    const stored = await db.get('accessRequests', requestId);
    if (!stored) continue;
    const decisions = await db.list('accessDecisions', { where: [['requestId', '==', requestId]] });
    const evidence = await db.list('evidence', {
      where: [
        ['kind', '==', 'content_access'],
        ['details.grantId', '==', requestId],
      ],
    });
    items.push({
      request: StoredRequestSchema.parse(stored),
      decisions: decisions.map((d) => StoredDecisionSchema.parse(d.data)),
      accesses: evidence.map(({ data }) => {
        const subject = data.subject as { type: string; id: string };
        return {
          evidenceId: String(data.id),
          accessedAt: String(
            (data.details as { accessedAt?: unknown }).accessedAt ?? data.createdAt,
          ),
          actorUid: String((data.actor as { id: unknown }).id),
          resource: subject.type === 'tenant' ? 'evidence' : `${subject.type}:${subject.id}`,
        };
      }),
    });
  }
  return reviewAccess(items, { from, to }, now);
}

/** One line per event of the period: requests, decisions and reads. */
export const CSV_COLUMNS = [
  'at',
  'event',
  'requestId',
  'tenantId',
  'ticket',
  'actor',
  'detail',
  'status',
  'anomalies',
] as const;

function csvCell(value: string): string {
  // Quoted always; a leading =, +, - or @ is prefixed so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function reviewCsv(review: AccessReview): string {
  const rows: string[][] = [];
  for (const r of review.requests) {
    const { request } = r;
    const base = { requestId: request.id, tenantId: request.tenantId, ticket: request.ticket };
    const row = (at: string, event: string, actor: string, detail: string, extra = ['', '']) => [
      at,
      event,
      base.requestId,
      base.tenantId,
      base.ticket,
      actor,
      detail,
      ...extra,
    ];
    rows.push(
      row(
        request.requestedAt,
        'request',
        request.requesterUid,
        `${scopeEntries(request).join(' ')}; ${String(request.durationMinutes)} min; ${request.justification}`,
        [r.status, r.anomalies.join(' ')],
      ),
    );
    for (const d of [...r.decisions].sort((a, b) => a.decidedAt.localeCompare(b.decidedAt)))
      rows.push(row(d.decidedAt, d.kind, d.byUid, d.justification ?? ''));
    for (const a of [...r.accesses].sort((x, y) => x.accessedAt.localeCompare(y.accessedAt)))
      rows.push(row(a.accessedAt, 'access', a.actorUid, `${a.resource} (${a.evidenceId})`));
  }
  return (
    [CSV_COLUMNS.join(','), ...rows.map((cells) => cells.map(csvCell).join(','))].join('\r\n') +
    '\r\n'
  );
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);

export function reviewHtml(review: AccessReview): string {
  const flagged = review.requests.filter((r) => r.anomalies.length > 0).length;
  const sections = review.requests.map((r) => {
    const { request } = r;
    const events = [
      ...r.decisions.map((d) => [d.decidedAt, d.kind, d.byUid, d.justification ?? '']),
      ...r.accesses.map((a) => [
        a.accessedAt,
        'access',
        a.actorUid,
        `${a.resource} (${a.evidenceId})`,
      ]),
    ].sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    return `<section class="${r.anomalies.length > 0 ? 'flagged' : ''}">
<h2>${escapeHtml(request.ticket)} — ${escapeHtml(request.id)} (${escapeHtml(r.status)})</h2>
<p>Tenant <code>${escapeHtml(request.tenantId)}</code>, requested by <code>${escapeHtml(request.requesterUid)}</code> at ${escapeHtml(request.requestedAt)} for ${escapeHtml(String(request.durationMinutes))} min; grant ${escapeHtml(r.activeFrom ?? '—')} to ${escapeHtml(r.expiresAt ?? '—')}.</p>
<p>Justification: ${escapeHtml(request.justification)}</p>
<p>Scope: ${scopeEntries(request)
      .map((e) => `<code>${escapeHtml(e)}</code>`)
      .join(
        ', ',
      )}${r.unused.length > 0 ? `; never read: ${r.unused.map((e) => `<code>${escapeHtml(e)}</code>`).join(', ')}` : ''}</p>
<p class="anomalies">Anomalies: ${r.anomalies.length > 0 ? r.anomalies.map((a) => `<strong data-anomaly="${a}">${a}</strong>`).join(', ') : 'none'}</p>
<table><thead><tr><th>at</th><th>event</th><th>who</th><th>detail</th></tr></thead><tbody>
${events.map((e) => `<tr>${e.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Provenant access review ${escapeHtml(review.from)} – ${escapeHtml(review.to)}</title>
<style>body{font-family:sans-serif;margin:2em}section{border:1px solid #ccc;padding:0 1em;margin:1em 0}section.flagged{border-color:#c00}strong{color:#c00}td,th{padding:2px 8px;text-align:left}</style>
</head><body>
<h1>Break-glass access review</h1>
<p>Period ${escapeHtml(review.from)} to ${escapeHtml(review.to)}, generated ${escapeHtml(review.generatedAt)}: ${String(review.requests.length)} request(s), ${String(flagged)} flagged.</p>
${sections.join('\n')}
</body></html>
`;
}
