/**
 * Issue 13: the status of a break-glass request as access/model.ts derives it from the
 * create-only request and decisions and a clock passed in, so the 24-hour expiry of an unapproved
 * request and the end of a grant are checked without waiting for either.
 */
import {
  grantState,
  requiredApprovals,
  scopeCovers,
  TICKET,
  type StoredDecision,
  type StoredRequest,
} from '../../functions/src/access/model';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const iso = (minutes: number) => at(minutes).toISOString();

const request: StoredRequest = {
  id: 'ar_1',
  tenantId: 'acme',
  requesterUid: 'eng',
  scope: { extractionIds: ['ex_1'] },
  justification: 'customer ticket about a total',
  ticket: 'SEC-1',
  durationMinutes: 60,
  startAt: iso(0),
  requestedAt: iso(0),
  requiredApprovals: 2,
};

const decision = (
  kind: StoredDecision['kind'],
  byUid: string,
  minutes: number,
  id = `${kind}-${byUid}`,
): StoredDecision => ({
  id,
  requestId: 'ar_1',
  kind,
  byUid,
  justification: null,
  decidedAt: iso(minutes),
});

describe('break-glass status (issue 13)', () => {
  it('a request nobody approves is pending for 24 hours, then expired', () => {
    expect(grantState(request, [], at(24 * 60 - 1)).status).toBe('pending');
    expect(grantState(request, [], at(24 * 60)).status).toBe('expired');
    expect(grantState(request, [decision('approval', 'a1', 5)], at(24 * 60)).status).toBe(
      'expired',
    );
  });

  it('two distinct approvers other than the requester open the grant for its duration', () => {
    const one = [decision('approval', 'a1', 5)];
    expect(grantState(request, one, at(6))).toMatchObject({ status: 'pending', active: false });
    // The same approver twice, or the requester, does not make a second approval.
    const sameTwice = [...one, decision('approval', 'a1', 7, 'other-id')];
    expect(grantState(request, sameTwice, at(8)).status).toBe('pending');
    const requester = [...one, decision('approval', 'eng', 7)];
    expect(grantState(request, requester, at(8)).status).toBe('pending');
    const two = [...one, decision('approval', 'a2', 10)];
    expect(grantState(request, two, at(11))).toMatchObject({
      status: 'approved',
      active: true,
      activeFrom: iso(10),
      expiresAt: iso(70),
    });
    expect(grantState(request, two, at(69.99)).active).toBe(true);
    expect(grantState(request, two, at(70))).toMatchObject({ status: 'expired', active: false });
  });

  it('a grant opens at its requested start when approved earlier', () => {
    const later = { ...request, startAt: iso(120) };
    const two = [decision('approval', 'a1', 5), decision('approval', 'a2', 10)];
    expect(grantState(later, two, at(60))).toMatchObject({ status: 'approved', active: false });
    expect(grantState(later, two, at(121))).toMatchObject({
      active: true,
      expiresAt: iso(180),
    });
  });

  it('a revocation ends an approved grant at once, and a denial a pending request', () => {
    const two = [decision('approval', 'a1', 5), decision('approval', 'a2', 10)];
    expect(grantState(request, [...two, decision('revocation', 'a1', 20)], at(21))).toMatchObject({
      status: 'revoked',
      active: false,
    });
    expect(grantState(request, [decision('denial', 'a1', 2)], at(3)).status).toBe('denied');
  });

  it('a self-approval attempt counts for nothing', () => {
    const attempt = [decision('self_approval_attempt', 'eng', 1), decision('approval', 'a1', 2)];
    expect(grantState({ ...request, requiredApprovals: 1 }, attempt, at(3)).approvals).toEqual([
      attempt[1],
    ]);
  });

  it('content needs two approvers, evidence alone one; a scope covers exactly what it names', () => {
    expect(requiredApprovals({ extractionIds: ['ex_1'] })).toBe(2);
    expect(requiredApprovals({ documentIds: ['ex_1'], evidence: true })).toBe(2);
    expect(requiredApprovals({ evidence: true })).toBe(1);
    expect(scopeCovers(request.scope, { type: 'extraction', id: 'ex_1' })).toBe(true);
    expect(scopeCovers(request.scope, { type: 'extraction', id: 'ex_2' })).toBe(false);
    expect(scopeCovers(request.scope, { type: 'document', id: 'ex_1' })).toBe(false);
    expect(scopeCovers(request.scope, { type: 'evidence' })).toBe(false);
  });

  it('takes tickets in the tracker key form only', () => {
    for (const ok of ['SEC-1', 'INC-42', 'OPS2-12345']) expect(TICKET.test(ok)).toBe(true);
    for (const bad of ['sec-1', 'SEC', 'SEC-', '1SEC-2', 'S-1', 'SEC-1 ', 'see slack', 'SEC-1x'])
      expect(TICKET.test(bad)).toBe(false);
  });
});
