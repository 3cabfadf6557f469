/**
 * Issue 13: the access review's anomaly flags (access/review.ts), on requests, decisions and
 * reads shaped as the ops function stores them, and the CSV and HTML it writes from them.
 */
import type { StoredDecision, StoredRequest } from '../../functions/src/access/model';
import {
  CSV_COLUMNS,
  reviewAccess,
  reviewCsv,
  reviewHtml,
  type GrantAccess,
  type ReviewItem,
} from '../../functions/src/access/review';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const NOW = new Date(T0 + 48 * 3_600_000);
const period = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };

function item(
  id: string,
  options: {
    scope?: StoredRequest['scope'];
    decisions?: [StoredDecision['kind'], string, number][];
    accesses?: [string, number][];
  },
): ReviewItem {
  return {
    request: {
      id,
      tenantId: 'acme',
      requesterUid: 'eng',
      scope: options.scope ?? { extractionIds: ['ex_1'] },
      justification: 'Customer reports a wrong total',
      ticket: 'SEC-7',
      durationMinutes: 60,
      startAt: iso(0),
      requestedAt: iso(0),
      requiredApprovals: 2,
    },
    decisions: (options.decisions ?? []).map(([kind, byUid, minutes], i) => ({
      id: `${id}-${String(i)}`,
      requestId: id,
      kind,
      byUid,
      justification: null,
      decidedAt: iso(minutes),
    })),
    accesses: (options.accesses ?? []).map(([resource, minutes], i): GrantAccess => ({
      evidenceId: `ev_content_access_${id}-${String(i)}`,
      accessedAt: iso(minutes),
      actorUid: 'eng',
      resource,
    })),
  };
}

const approvedAt10: [StoredDecision['kind'], string, number][] = [
  ['approval', 'a1', 5],
  ['approval', 'a2', 10],
];

const flags = (items: ReviewItem[]) =>
  Object.fromEntries(
    reviewAccess(items, period, NOW).requests.map((r) => [r.request.id, r.anomalies]),
  );

describe('access review anomaly flags (issue 13)', () => {
  it('flags a self-approval attempt, even on a request approved afterwards', () => {
    expect(
      flags([
        item('ar_self', {
          decisions: [['self_approval_attempt', 'eng', 1], ...approvedAt10],
          accesses: [['extraction:ex_1', 20]],
        }),
      ]),
    ).toEqual({ ar_self: ['self_approval_attempt'] });
  });

  it('flags a read in the last tenth of the grant, not one before it', () => {
    // The grant runs from minute 10 to 70: the last tenth starts at minute 64.
    expect(
      flags([
        item('ar_late', { decisions: approvedAt10, accesses: [['extraction:ex_1', 65]] }),
        item('ar_early', { decisions: approvedAt10, accesses: [['extraction:ex_1', 63]] }),
      ]),
    ).toEqual({ ar_late: ['access_near_expiry'], ar_early: [] });
  });

  it('flags a scope broader than what was read', () => {
    expect(
      flags([
        item('ar_broad', {
          scope: { extractionIds: ['ex_1', 'ex_2'], documentIds: ['ex_1'] },
          decisions: approvedAt10,
          accesses: [['extraction:ex_1', 20]],
        }),
      ]),
    ).toEqual({ ar_broad: ['scope_broader_than_used'] });
    const [reviewed] = reviewAccess(
      [
        item('ar_broad', {
          scope: { extractionIds: ['ex_1', 'ex_2'], documentIds: ['ex_1'] },
          decisions: approvedAt10,
          accesses: [['extraction:ex_1', 20]],
        }),
      ],
      period,
      NOW,
    ).requests;
    expect(reviewed?.unused).toEqual(['extraction:ex_2', 'document:ex_1']);
  });

  it('flags a grant that expired or was revoked unused; not a request never approved', () => {
    expect(
      flags([
        item('ar_unused', { decisions: approvedAt10 }),
        item('ar_revoked', { decisions: [...approvedAt10, ['revocation', 'a1', 30]] }),
        item('ar_denied', { decisions: [['denial', 'a1', 5]] }),
        item('ar_lapsed', { decisions: [['approval', 'a1', 5]] }),
      ]),
    ).toEqual({
      ar_unused: ['grant_never_used'],
      ar_revoked: ['grant_never_used'],
      ar_denied: [],
      ar_lapsed: [],
    });
  });

  it('writes every request, decision and read to the CSV, and the flags to the HTML', () => {
    const review = reviewAccess(
      [
        item('ar_self', {
          decisions: [['self_approval_attempt', 'eng', 1], ...approvedAt10],
          accesses: [['extraction:ex_1', 66]],
        }),
      ],
      period,
      NOW,
    );
    const lines = reviewCsv(review).trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual([
      '"request"',
      '"self_approval_attempt"',
      '"approval"',
      '"approval"',
      '"access"',
    ]);
    expect(lines[1]).toContain('"self_approval_attempt access_near_expiry"');
    const html = reviewHtml(review);
    expect(html).toContain('data-anomaly="self_approval_attempt"');
    expect(html).toContain('data-anomaly="access_near_expiry"');
  });

  it('escapes what people typed: no markup in the HTML, no formula in the CSV', () => {
    const hostile = item('ar_x', { decisions: approvedAt10, accesses: [['extraction:ex_1', 20]] });
    hostile.request.justification = '<script>alert(1)</script>';
    const [first] = hostile.decisions;
    if (first) first.justification = '=HYPERLINK("http://x")';
    const review = reviewAccess([hostile], period, NOW);
    expect(reviewHtml(review)).not.toContain('<script>');
    expect(reviewHtml(review)).toContain('&#60;script&#62;');
    expect(reviewCsv(review)).not.toMatch(/,"=HYPERLINK/);
    expect(reviewCsv(review)).toContain(`,"'=HYPERLINK(""http://x"")"`);
  });
});
