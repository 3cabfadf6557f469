/**
 * Reading a tenant's content under a break-glass grant. Every read checks the grant anew, in the
 * transaction that records it: the request and its decisions are read by id in that transaction
 * together with the resource's own document, and the `content_access` evidence record is created
 * there. A revocation committed before the read is seen by it, on any instance (nothing is
 * cached); one racing it makes one of the two retry. Only after the commit is anything
 * decrypted, so no content leaves without its record.
 */
import { randomBytes } from 'node:crypto';
import { conflict, forbidden, notFound } from '../errors';
import { ObjectErasedError, openStoredObject } from '../crypto/sealed-object';
import { EvidenceRecordSchema, type EvidenceRecord } from '../evidence/record';
import { readableExtraction } from '../extraction/results';
import { recordEvent } from '../ledger/evidence-writer';
import { log } from '../logging';
import type { Services } from '../services';
import type { DocData } from '../tenancy/firestore';
import type { StaffMember } from '../tenancy/identity';
import { publishSecurityNotice } from '../webhooks/security-notice';
import { grantState, scopeCovers, type GrantedResource, type GrantState } from './model';
import { readRequest, requestTenant, type AccessClock } from './requests';

/** What a grant's holder gets back. */
export type GrantedContent =
  | { type: 'extraction'; extractionId: string; extraction: DocData }
  | { type: 'document'; documentId: string; contentType: string; contentBase64: string }
  | { type: 'evidence'; records: EvidenceRecord[] };

/** The refusal for a grant that is not active now, by its status. */
function inactiveGrant(state: GrantState): Error {
  switch (state.status) {
    case 'revoked':
      return forbidden('grant_revoked', 'the grant was revoked');
    case 'expired':
      return forbidden('grant_expired', 'the grant has expired');
    case 'denied':
    case 'pending':
      return forbidden(
        'grant_not_approved',
        `the request is ${state.status}: it needs its approvals first`,
      );
    case 'approved':
      return forbidden('grant_not_started', `the grant opens at ${String(state.activeFrom)}`);
  }
}

const resourceLabel = (r: GrantedResource) =>
  r.type === 'evidence' ? 'evidence' : `${r.type}:${r.id}`;

/** The most evidence records one read returns. */
const EVIDENCE_PAGE = 100;

export async function readUnderGrant(
  services: Services,
  who: StaffMember,
  requestId: string,
  resource: GrantedResource,
  deps: AccessClock = {},
): Promise<GrantedContent> {
  const now = (deps.now ?? (() => new Date()))();
  const { tenant, db } = await requestTenant(services, requestId);
  const refuse = (err: Error, reason: string): never => {
    log('content_access_refused', {
      requestId,
      tenantId: tenant.id,
      uid: who.uid,
      reason,
      resource: resourceLabel(resource),
    });
    throw err;
  };
  if (tenant.status !== 'active')
    refuse(forbidden('tenant_inactive', 'this tenant is not active'), 'tenant_inactive');
  const evidenceKey = `grant-${requestId}-${randomBytes(8).toString('hex')}`;
  const recorded = await db
    .runTransaction(async (tx) => {
      const { request, decisions } = await readRequest(tx, requestId);
      const state = grantState(request, decisions, now);
      if (request.requesterUid !== who.uid)
        throw forbidden('not_grant_holder', 'a grant is used by its requester only');
      if (!state.active) throw inactiveGrant(state);
      if (!scopeCovers(request.scope, resource))
        throw forbidden('out_of_scope', 'the grant does not cover this resource');
      // The read's bookkeeping: the resource's document, read in this transaction.
      let data: DocData | undefined;
      if (resource.type !== 'evidence') {
        data = await tx.get(
          resource.type === 'extraction' ? 'extractions' : 'documents',
          resource.id,
        );
        if (!data) throw notFound(resource.type);
      }
      const approvers = state.approvals.map((a) => a.byUid);
      recordEvent(tx, {
        kind: 'content_access',
        key: evidenceKey,
        subject: resource.type === 'evidence' ? { type: 'tenant', id: tenant.id } : resource,
        details: {
          purpose: 'break_glass',
          grantId: request.id,
          ticket: request.ticket,
          requester: request.requesterUid,
          approvers,
          objects: [resource.type === 'extraction' ? 'result' : resource.type],
          accessedAt: now.toISOString(),
          grantExpiresAt: state.expiresAt,
        },
        actor: { kind: 'user', id: who.uid },
      });
      return { request, data };
    })
    .catch((err: unknown) => {
      if (err instanceof Error && 'code' in err && typeof err.code === 'string')
        refuse(err, err.code);
      throw err;
    });
  const { request, data } = recorded;
  log('content_accessed', {
    requestId,
    tenantId: tenant.id,
    uid: who.uid,
    ticket: request.ticket,
    resource: resourceLabel(resource),
  });
  await publishSecurityNotice(services, {
    event: 'access.used',
    tenantId: tenant.id,
    requestId,
    actorUid: who.uid,
    ticket: request.ticket,
    status: 'approved',
    at: now.toISOString(),
    resource: resourceLabel(resource),
  });

  if (resource.type === 'extraction') {
    const {
      documentId: _d,
      idempotencyKeyId: _i,
      ...extraction
    } = await readableExtraction(services, tenant, db, resource.id, data ?? {});
    return { type: 'extraction', extractionId: resource.id, extraction };
  }
  if (resource.type === 'document') {
    const ref = typeof data?.ciphertextRef === 'string' ? data.ciphertextRef : undefined;
    if (ref === undefined) throw conflict('content_erased', 'the document was erased');
    try {
      const opened = await openStoredObject(
        services,
        tenant,
        db,
        { kind: 'document', id: resource.id },
        ref,
      );
      return {
        type: 'document',
        documentId: resource.id,
        contentType:
          typeof data?.contentType === 'string' ? data.contentType : 'application/octet-stream',
        contentBase64: opened.plaintext.toString('base64'),
      };
    } catch (err) {
      if (err instanceof ObjectErasedError)
        throw conflict('content_erased', 'the document was erased');
      throw err;
    }
  }
  const records = await db.list('evidence', {
    orderBy: [['createdAt', 'desc']],
    limit: EVIDENCE_PAGE,
  });
  return { type: 'evidence', records: records.map((r) => EvidenceRecordSchema.parse(r.data)) };
}
