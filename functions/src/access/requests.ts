/**
 * Break-glass requests and decisions (docs/access.md). An engineer asks for time-bound access to
 * named resources of one tenant, with a ticket and a justification; approvers other than the
 * requester approve (two for content, one for evidence alone), deny or revoke. Every request and
 * every decision is a create-only document in the tenant's database; the status is derived
 * (model.ts `grantState`), never stored, so no update can rewrite what was decided.
 */
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import type { StaffMember } from '../tenancy/identity';
import {
  COMMIT_TIME,
  isAlreadyExists,
  type TenantDb,
  type TenantTransaction,
} from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { publishSecurityNotice } from '../webhooks/security-notice';
import {
  decisionIds,
  grantState,
  MIN_DURATION_MINUTES,
  newRequestId,
  requiredApprovals,
  selfApprovalAttemptId,
  START_HORIZON_MS,
  START_SKEW_MS,
  StoredDecisionSchema,
  StoredRequestSchema,
  TICKET,
  type AccessRequestInput,
  type GrantState,
  type StoredDecision,
  type StoredRequest,
} from './model';

/** The clock every rule reads; tests pass their own. */
export interface AccessClock {
  now?: () => Date;
}

const clock = (deps: AccessClock) => deps.now ?? (() => new Date());

/** A request as the API shows it: what was asked, who decided what, and the derived status. */
export interface AccessRequestView {
  id: string;
  tenantId: string;
  requesterUid: string;
  scope: StoredRequest['scope'];
  justification: string;
  ticket: string;
  durationMinutes: number;
  startAt: string;
  requestedAt: string;
  requiredApprovals: number;
  status: GrantState['status'];
  approvals: { uid: string; justification: string | null; decidedAt: string }[];
  denial: { uid: string; justification: string | null; decidedAt: string } | null;
  revocation: { uid: string; justification: string | null; decidedAt: string } | null;
  activeFrom: string | null;
  expiresAt: string | null;
  pendingUntil: string;
}

export function requestView(request: StoredRequest, state: GrantState): AccessRequestView {
  const decision = (d: StoredDecision | undefined) =>
    d ? { uid: d.byUid, justification: d.justification, decidedAt: d.decidedAt } : null;
  return {
    ...request,
    status: state.status,
    approvals: state.approvals.map((d) => ({
      uid: d.byUid,
      justification: d.justification,
      decidedAt: d.decidedAt,
    })),
    denial: decision(state.denial),
    revocation: decision(state.revocation),
    activeFrom: state.activeFrom,
    expiresAt: state.expiresAt,
    pendingUntil: state.pendingUntil,
  };
}

/** The request's tenant and database, or a 404 for an id that names none. */
export async function requestTenant(
  services: Services,
  requestId: string,
): Promise<{ tenant: TenantProfile; db: TenantDb }> {
  const tenantId = await services.platform.accessRequestTenant(requestId);
  const tenant = tenantId === undefined ? undefined : await services.platform.getTenant(tenantId);
  if (!tenant) throw notFound('access request');
  return { tenant, db: services.platform.tenantDb(tenant) };
}

/**
 * The request and its decisions, read by id in `tx` (or outside one): the same five gets the
 * content routes make in the transaction of every read.
 */
export async function readRequest(
  reader: Pick<TenantTransaction, 'get'> | Pick<TenantDb, 'get'>,
  requestId: string,
): Promise<{ request: StoredRequest; decisions: StoredDecision[] }> {
  const ids = decisionIds(requestId);
  const [request, ...decisions] = await Promise.all([
    reader.get('accessRequests', requestId),
    ...[...ids.approvals, ids.denial, ids.revocation].map((id) =>
      reader.get('accessDecisions', id),
    ),
  ]);
  if (!request) throw notFound('access request');
  return {
    request: StoredRequestSchema.parse(request),
    decisions: decisions.flatMap((d) => (d ? [StoredDecisionSchema.parse(d)] : [])),
  };
}

function checkTicket(ticket: string | undefined): string {
  if (ticket === undefined || ticket.trim() === '')
    throw badRequest('ticket_required', 'every access request names its ticket, e.g. SEC-1234');
  if (!TICKET.test(ticket))
    throw badRequest(
      'invalid_ticket',
      'a ticket is a project key and a number, e.g. SEC-1234 (^[A-Z][A-Z0-9]+-\\d+$)',
    );
  return ticket;
}

/** Every named resource must exist in the tenant: a grant cannot name another tenant's ids. */
async function checkResources(db: TenantDb, scope: StoredRequest['scope']): Promise<void> {
  const missing: string[] = [];
  for (const id of scope.extractionIds ?? [])
    if (!(await db.get('extractions', id))) missing.push(`extraction:${id}`);
  for (const id of scope.documentIds ?? [])
    if (!(await db.get('documents', id))) missing.push(`document:${id}`);
  if (missing.length > 0)
    throw unprocessable(
      'unknown_resource',
      'the scope names resources this tenant does not have',
      missing,
    );
}

export async function createAccessRequest(
  services: Services,
  requester: StaffMember,
  input: AccessRequestInput,
  deps: AccessClock = {},
): Promise<AccessRequestView> {
  const now = clock(deps)();
  const ticket = checkTicket(input.ticket);
  const max = services.config.ACCESS_MAX_DURATION_MINUTES;
  if (input.durationMinutes > max)
    throw badRequest('duration_too_long', `a grant lasts at most ${String(max)} minutes`);
  if (input.durationMinutes < MIN_DURATION_MINUTES)
    throw badRequest('invalid_duration', 'a grant lasts at least one second');
  const startAt = input.startAt === undefined ? now : new Date(input.startAt);
  if (
    startAt.getTime() < now.getTime() - START_SKEW_MS ||
    startAt.getTime() > now.getTime() + START_HORIZON_MS
  )
    throw badRequest('invalid_start', 'startAt lies between now and 24 hours from now');
  const tenant = await services.platform.getTenant(input.tenantId);
  if (!tenant) throw notFound('tenant');
  if (tenant.status !== 'active') throw forbidden('tenant_inactive', 'this tenant is not active');
  const db = services.platform.tenantDb(tenant);
  await checkResources(db, input.scope);

  const request: StoredRequest = {
    id: newRequestId(),
    tenantId: tenant.id,
    requesterUid: requester.uid,
    scope: input.scope,
    justification: input.justification,
    ticket,
    durationMinutes: input.durationMinutes,
    startAt: startAt.toISOString(),
    requestedAt: now.toISOString(),
    requiredApprovals: requiredApprovals(input.scope),
  };
  // The pointer first: a pointer without its request is a 404, never a request nobody can find.
  await services.platform.createAccessRequestPointer(request.id, {
    tenantId: tenant.id,
    requesterUid: requester.uid,
    requestedAt: request.requestedAt,
  });
  await db.create('accessRequests', request.id, { ...request, createdAt: COMMIT_TIME });
  const state = grantState(request, [], now);
  log('access_requested', {
    requestId: request.id,
    tenantId: tenant.id,
    uid: requester.uid,
    ticket,
    requiredApprovals: request.requiredApprovals,
  });
  await publishSecurityNotice(services, {
    event: 'access.requested',
    tenantId: tenant.id,
    requestId: request.id,
    actorUid: requester.uid,
    ticket,
    status: state.status,
    at: now.toISOString(),
  });
  return requestView(request, state);
}

export async function getAccessRequest(
  services: Services,
  requestId: string,
  deps: AccessClock = {},
): Promise<AccessRequestView> {
  const { db } = await requestTenant(services, requestId);
  const { request, decisions } = await readRequest(db, requestId);
  return requestView(request, grantState(request, decisions, clock(deps)()));
}

export type DecisionAction = 'approve' | 'deny' | 'revoke';

/**
 * Records a decision in one transaction with the read of the request's current state, so two
 * decisions racing each other see one another (or one of them fails on its create-only id).
 */
export async function decideAccessRequest(
  services: Services,
  who: StaffMember,
  requestId: string,
  action: DecisionAction,
  justification: string | undefined,
  deps: AccessClock = {},
): Promise<AccessRequestView> {
  const { tenant, db } = await requestTenant(services, requestId);
  const now = clock(deps)();
  const ids = decisionIds(requestId);
  const decision = (id: string, kind: StoredDecision['kind']): StoredDecision => ({
    id,
    requestId,
    kind,
    byUid: who.uid,
    justification: justification ?? null,
    decidedAt: now.toISOString(),
  });
  let outcome: { view: AccessRequestView; selfApproval: boolean; request: StoredRequest };
  try {
    outcome = await db.runTransaction(async (tx) => {
      const { request, decisions } = await readRequest(tx, requestId);
      const state = grantState(request, decisions, now);
      const isRequester = request.requesterUid === who.uid;
      const isApprover = who.roles.includes('approver');
      let written: StoredDecision;
      if (action === 'approve') {
        if (isRequester) {
          // Refused, and kept: the access review lists every self-approval attempt.
          written = decision(selfApprovalAttemptId(requestId), 'self_approval_attempt');
          tx.create('accessDecisions', written.id, { ...written, createdAt: COMMIT_TIME });
          return { view: requestView(request, state), selfApproval: true, request };
        }
        if (state.status !== 'pending')
          throw conflict('request_not_pending', `the request is ${state.status}`, {
            status: state.status,
          });
        if (state.approvals.some((a) => a.byUid === who.uid))
          throw conflict('already_approved', 'you approved this request already');
        const slot = ids.approvals[state.approvals.length];
        if (slot === undefined) throw conflict('request_not_pending', 'the request is approved');
        written = decision(slot, 'approval');
      } else if (action === 'deny') {
        if (state.status !== 'pending')
          throw conflict('request_not_pending', `the request is ${state.status}`, {
            status: state.status,
          });
        written = decision(ids.denial, 'denial');
      } else {
        // An approver revokes any grant; the requester may give up their own.
        if (!isApprover && !isRequester)
          throw forbidden('not_requester', 'only an approver or the requester may revoke');
        if (state.status !== 'pending' && state.status !== 'approved')
          throw conflict('request_closed', `the request is ${state.status}`, {
            status: state.status,
          });
        written = decision(ids.revocation, 'revocation');
      }
      tx.create('accessDecisions', written.id, { ...written, createdAt: COMMIT_TIME });
      const after = grantState(request, [...decisions, written], now);
      return { view: requestView(request, after), selfApproval: false, request };
    });
  } catch (err) {
    if (isAlreadyExists(err))
      throw conflict(
        'decision_conflict',
        'another decision on this request was recorded at the same moment; read it and retry',
      );
    throw err;
  }
  const { view, selfApproval, request } = outcome;
  log('access_decided', {
    requestId,
    tenantId: tenant.id,
    uid: who.uid,
    action: selfApproval ? 'self_approval_refused' : action,
    status: view.status,
  });
  if (selfApproval) {
    throw forbidden('self_approval', 'an approver other than the requester must approve');
  }
  const event =
    action === 'approve'
      ? 'access.approved'
      : action === 'deny'
        ? 'access.denied'
        : 'access.revoked';
  await publishSecurityNotice(services, {
    event,
    tenantId: tenant.id,
    requestId,
    actorUid: who.uid,
    ticket: request.ticket,
    status: view.status,
    at: now.toISOString(),
  });
  return view;
}
