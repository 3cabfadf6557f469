/**
 * Break-glass access (docs/access.md). On the `ops` URL, for the platform's staff: requests,
 * their approval, denial and revocation, and the content routes that read a tenant's content
 * under an active grant. On the `api` URL, for the tenant: the transparency feed of every access.
 */
import { z } from 'zod';
import { readUnderGrant } from '../access/content';
import { AccessRequestInput, DecisionInput } from '../access/model';
import {
  createAccessRequest,
  decideAccessRequest,
  getAccessRequest,
  type DecisionAction,
} from '../access/requests';
import { accessTransparency } from '../access/transparency';
import { jsonObject, optionalJsonObject } from './body';
import { route, type Route } from './route';
import { AnyObject } from './views';

const create = route({
  method: 'POST',
  pattern: '/v1/access-requests',
  auth: 'engineer',
  body: jsonObject(AccessRequestInput),
  summary: 'Request time-bound access to named resources of one tenant, with a ticket',
  ok: [{ status: 201, schema: AnyObject, description: 'The request, pending its approvals' }],
  errors: [400, 404, 415, 422],
  handle: async ({ services, staff, body }) => ({
    status: 201,
    body: await createAccessRequest(services, staff, body),
  }),
});

const read = route({
  method: 'GET',
  pattern: '/v1/access-requests/:id',
  auth: 'staff',
  summary: 'One access request with its decisions and derived status',
  ok: [{ status: 200, schema: AnyObject, description: 'The request' }],
  errors: [404],
  handle: async ({ services, params: { id } }) => ({
    status: 200,
    body: await getAccessRequest(services, id),
  }),
});

function decision(action: DecisionAction, summary: string): Route {
  return route({
    method: 'POST',
    pattern: `/v1/access-requests/:id/${action}`,
    auth: action === 'revoke' ? 'staff' : 'approver',
    body: optionalJsonObject(DecisionInput),
    summary,
    ok: [{ status: 200, schema: AnyObject, description: 'The request after the decision' }],
    errors: [400, 404, 409, 415],
    handle: async ({ services, staff, params: { id }, body }) => ({
      status: 200,
      body: await decideAccessRequest(services, staff, id, action, body.justification),
    }),
  });
}

const contentRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/access-requests/:id/extractions/:extractionId',
    auth: 'engineer',
    summary:
      'Read an extraction (its decrypted result) under an active grant; recorded as evidence',
    ok: [{ status: 200, schema: AnyObject, description: 'The extraction' }],
    errors: [404, 409],
    handle: async ({ services, staff, params: { id, extractionId } }) => ({
      status: 200,
      body: await readUnderGrant(services, staff, id, {
        type: 'extraction',
        id: extractionId,
      }),
      headers: { 'Cache-Control': 'no-store' },
    }),
  }),
  route({
    method: 'GET',
    pattern: '/v1/access-requests/:id/documents/:documentId',
    auth: 'engineer',
    summary: 'Read an original document under an active grant; recorded as evidence',
    ok: [{ status: 200, schema: AnyObject, description: 'The document, base64' }],
    errors: [404, 409],
    handle: async ({ services, staff, params: { id, documentId } }) => ({
      status: 200,
      body: await readUnderGrant(services, staff, id, {
        type: 'document',
        id: documentId,
      }),
      headers: { 'Cache-Control': 'no-store' },
    }),
  }),
  route({
    method: 'GET',
    pattern: '/v1/access-requests/:id/evidence',
    auth: 'engineer',
    summary:
      "Read the tenant's latest evidence records under an active grant; recorded as evidence",
    ok: [{ status: 200, schema: AnyObject, description: 'The records, newest first' }],
    errors: [404],
    handle: async ({ services, staff, params: { id } }) => ({
      status: 200,
      body: await readUnderGrant(services, staff, id, { type: 'evidence' }),
    }),
  }),
];

/** The `ops` function's break-glass routes. */
export const accessOpsRoutes: Route[] = [
  create,
  read,
  decision('approve', 'Approve a request (an approver other than the requester)'),
  decision('deny', 'Deny a pending request'),
  decision('revoke', 'Revoke a grant or withdraw a request (an approver, or the requester)'),
  ...contentRoutes,
];

const TransparencyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  pageToken: z.string().max(128).optional(),
});

/** The `api` function's: the tenant's transparency feed. */
export const accessApiRoutes: Route[] = [
  route({
    method: 'GET',
    pattern: '/v1/access-transparency',
    auth: { scope: 'extractions:read' },
    query: TransparencyQuery,
    summary: "Every access to the tenant's content by the platform's people, newest first",
    ok: [{ status: 200, schema: AnyObject, description: '{data, nextPageToken}' }],
    errors: [400],
    handle: async ({ services, tenant, query }) => ({
      status: 200,
      body: await accessTransparency(services, tenant, query),
    }),
  }),
];
