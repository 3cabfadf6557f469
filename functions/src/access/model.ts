/**
 * Break-glass access as data: a request (create-only), the decisions on it (create-only, one
 * document each), and the status derived from both and the clock. Nothing here touches a
 * service, so the rules of the flow are pure functions with an injected `now`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DocId } from '../tenancy/firestore';

/**
 * A ticket reference in the tracker's key form, `PROJ-123`: a project key (an upper-case letter,
 * then upper-case letters or digits) and an issue number. Jira's default project key pattern is
 * `([A-Z][A-Z]+)`; digits are allowed after the first letter as Jira's admins may allow them.
 */
export const TICKET = /^[A-Z][A-Z0-9]+-\d{1,9}$/;

/** A request nobody approved within this long expires. */
export const UNAPPROVED_TTL_MS = 24 * 60 * 60 * 1000;

/** How far in the past a requested start may lie (clock skew), and how far ahead. */
export const START_SKEW_MS = 5 * 60 * 1000;
export const START_HORIZON_MS = UNAPPROVED_TTL_MS;

/** The shortest grant: one second, so a test (or a cautious engineer) can ask for very little. */
export const MIN_DURATION_MINUTES = 1 / 60;

export const AccessScopeSchema = z
  .strictObject({
    extractionIds: z.array(DocId).min(1).max(50).optional(),
    documentIds: z.array(DocId).min(1).max(50).optional(),
    evidence: z.literal(true).optional(),
  })
  .refine(
    (s) => s.extractionIds !== undefined || s.documentIds !== undefined || s.evidence === true,
    'name at least one resource: extractionIds, documentIds or evidence',
  );
export type AccessScope = z.infer<typeof AccessScopeSchema>;

/** What an engineer sends. `ticket` is checked by the domain, for its own error codes. */
export const AccessRequestInput = z.strictObject({
  tenantId: DocId,
  scope: AccessScopeSchema,
  justification: z.string().trim().min(10).max(2000),
  ticket: z.string().max(64).optional(),
  durationMinutes: z.number().positive(),
  startAt: z.iso.datetime().optional(),
});
export type AccessRequestInput = z.infer<typeof AccessRequestInput>;

export const DecisionInput = z.strictObject({
  justification: z.string().trim().min(1).max(2000).optional(),
});

/** A request as stored in `tenants/{t}/accessRequests/{id}`. */
export const StoredRequestSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  requesterUid: z.string(),
  scope: AccessScopeSchema,
  justification: z.string(),
  ticket: z.string(),
  durationMinutes: z.number(),
  startAt: z.string(),
  requestedAt: z.string(),
  requiredApprovals: z.number().int().min(1).max(2),
});
export type StoredRequest = z.infer<typeof StoredRequestSchema>;

export const DECISION_KINDS = [
  'approval',
  'denial',
  'revocation',
  /** Refused, and kept for the access review: the requester tried to approve their own. */
  'self_approval_attempt',
] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** A decision as stored in `tenants/{t}/accessDecisions/{id}`. */
export const StoredDecisionSchema = z.object({
  id: z.string(),
  requestId: z.string(),
  kind: z.enum(DECISION_KINDS),
  byUid: z.string(),
  justification: z.string().nullable(),
  decidedAt: z.string(),
});
export type StoredDecision = z.infer<typeof StoredDecisionSchema>;

export function newRequestId(): string {
  return `ar_${randomBytes(12).toString('hex')}`;
}

/**
 * The deterministic ids of a request's decisions: approval slots 1 and 2, one denial, one
 * revocation. Create-only writes on them mean two approvers racing for one slot cannot both
 * win, and every read of a grant's state is a handful of gets by id (no query), inside the same
 * transaction as the read it allows.
 */
export const decisionIds = (requestId: string) => ({
  approvals: [`${requestId}-approval-1`, `${requestId}-approval-2`] as const,
  denial: `${requestId}-denial`,
  revocation: `${requestId}-revocation`,
});

export function selfApprovalAttemptId(requestId: string): string {
  return `${requestId}-self-${randomBytes(6).toString('hex')}`;
}

/**
 * Content scopes (an extraction's result, an original document) need two approvers; the
 * tenant's evidence alone (hashes and ids, no customer content) needs one.
 */
export function requiredApprovals(scope: AccessScope): 1 | 2 {
  return scope.extractionIds !== undefined || scope.documentIds !== undefined ? 2 : 1;
}

export const ACCESS_STATUSES = ['pending', 'approved', 'expired', 'revoked', 'denied'] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];

export interface GrantState {
  status: AccessStatus;
  approvals: StoredDecision[];
  denial: StoredDecision | undefined;
  revocation: StoredDecision | undefined;
  /** When the grant opens: the later of the requested start and the last approval. */
  activeFrom: string | null;
  /** When the grant closes: `activeFrom` + the duration. */
  expiresAt: string | null;
  /** When a still-pending request expires unapproved. */
  pendingUntil: string;
  /** Content may be read now. */
  active: boolean;
}

/**
 * The status of a request at `now`, from the request and its decisions alone. A revocation ends
 * everything; a denial ends a request; approvals from distinct approvers other than the
 * requester count, and the grant is approved once `requiredApprovals` of them exist.
 */
export function grantState(
  request: StoredRequest,
  decisions: readonly StoredDecision[],
  now: Date,
): GrantState {
  const mine = decisions.filter((d) => d.requestId === request.id);
  const seen = new Set<string>();
  const approvals = mine
    .filter((d) => d.kind === 'approval' && d.byUid !== request.requesterUid)
    .sort((a, b) => a.decidedAt.localeCompare(b.decidedAt))
    .filter((d) => (seen.has(d.byUid) ? false : (seen.add(d.byUid), true)));
  const denial = mine.find((d) => d.kind === 'denial');
  const revocation = mine.find((d) => d.kind === 'revocation');
  const pendingUntil = new Date(Date.parse(request.requestedAt) + UNAPPROVED_TTL_MS).toISOString();
  const complete = approvals.length >= request.requiredApprovals;
  const lastApproval = complete ? approvals[request.requiredApprovals - 1] : undefined;
  const from = lastApproval
    ? Math.max(Date.parse(request.startAt), Date.parse(lastApproval.decidedAt))
    : undefined;
  const activeFrom = from === undefined ? null : new Date(from).toISOString();
  const expiresAt =
    from === undefined
      ? null
      : new Date(from + Math.round(request.durationMinutes * 60_000)).toISOString();
  const t = now.getTime();
  let status: AccessStatus;
  if (revocation) status = 'revoked';
  else if (denial) status = 'denied';
  else if (expiresAt !== null) status = t >= Date.parse(expiresAt) ? 'expired' : 'approved';
  else status = t >= Date.parse(pendingUntil) ? 'expired' : 'pending';
  const active = status === 'approved' && activeFrom !== null && t >= Date.parse(activeFrom);
  return { status, approvals, denial, revocation, activeFrom, expiresAt, pendingUntil, active };
}

/** The resource a content route reads under a grant. */
export type GrantedResource =
  { type: 'extraction'; id: string } | { type: 'document'; id: string } | { type: 'evidence' };

export function scopeCovers(scope: AccessScope, resource: GrantedResource): boolean {
  switch (resource.type) {
    case 'extraction':
      return scope.extractionIds?.includes(resource.id) ?? false;
    case 'document':
      return scope.documentIds?.includes(resource.id) ?? false;
    case 'evidence':
      return scope.evidence === true;
  }
}
