/**
 * Sub-processor notices for a tenant's admins (`keys:admin`): subscribe an address (a
 * confirmation link is mailed; an unconfirmed address receives nothing), list and delete the
 * tenant's subscriptions, and object to a notice inside its window. The confirmation link is
 * the one route here without an API key: its random token is the credential, checked against
 * the stored hash, and a wrong token answers like an unknown subscription.
 */
import { z } from 'zod';
import { actorLabel } from '../evidence/actor';
import { notFound } from '../errors';
import { log } from '../logging';
import { DocId } from '../tenancy/firestore';
import {
  ConfirmationToken,
  confirmSubscription,
  deleteSubscription,
  listSubscriptions,
  objectToNotice,
  subscribe,
} from '../webhooks/subprocessor-notices';
import { jsonObject, optionalJsonObject } from './body';
import { route } from './route';
import { NoticeObjection, NoticeSubscription } from './views';

export const SubscribeBody = z.strictObject({ email: z.email().max(254) });

export const ObjectionBody = z.strictObject({
  /** The customer's own words, kept in its database; the evidence holds their hash. */
  reason: z.string().min(1).max(2000).optional(),
});

export const ConfirmQuery = z.strictObject({ tenant: DocId, token: ConfirmationToken });

export const subprocessorNoticeRoutes = [
  route({
    method: 'POST',
    pattern: '/v1/subprocessor-notices/subscriptions',
    auth: { scope: 'keys:admin' },
    body: jsonObject(SubscribeBody),
    summary: 'Subscribe an address to sub-processor notices (mails a confirmation link)',
    ok: [
      {
        status: 202,
        schema: NoticeSubscription,
        description: 'Pending; the link was mailed (or was, less than 10 minutes ago)',
      },
      { status: 200, schema: NoticeSubscription, description: 'Confirmed already; no mail' },
    ],
    errors: [400, 409, 415, 502, 503],
    handle: async ({ services, tenant, actor, body, requestId }) => {
      const { subscription, mailed } = await subscribe(services, tenant, body.email, actor);
      log('notice_subscription_created', {
        requestId,
        tenantId: tenant.id,
        subscriptionId: subscription.id,
        mailed,
        createdBy: actorLabel(actor),
      });
      return { status: subscription.status === 'confirmed' ? 200 : 202, body: subscription };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/subprocessor-notices/subscriptions',
    auth: { scope: 'keys:admin' },
    summary: "List the tenant's notice subscriptions",
    ok: [
      {
        status: 200,
        schema: z.strictObject({ subscriptions: z.array(NoticeSubscription) }),
        description: 'Every address, pending or confirmed',
      },
    ],
    errors: [],
    handle: async ({ services, tenant }) => ({
      status: 200,
      body: { subscriptions: await listSubscriptions(services, tenant) },
    }),
  }),

  route({
    method: 'GET',
    pattern: '/v1/subprocessor-notices/subscriptions/:id/confirm',
    auth: 'none',
    query: ConfirmQuery,
    summary: 'Confirm a subscription (the mailed link; its token is the credential)',
    ok: [{ status: 200, schema: NoticeSubscription, description: 'Confirmed' }],
    errors: [400, 404],
    handle: async ({ services, params: { id }, query, requestId }) => {
      if (!DocId.safeParse(id).success) throw notFound('subscription');
      const subscription = await confirmSubscription(services, query.tenant, id, query.token);
      log('notice_subscription_confirmed', {
        requestId,
        tenantId: query.tenant,
        subscriptionId: id,
      });
      return { status: 200, body: subscription, headers: { 'Cache-Control': 'no-store' } };
    },
  }),

  route({
    method: 'DELETE',
    pattern: '/v1/subprocessor-notices/subscriptions/:id',
    auth: { scope: 'keys:admin' },
    summary: 'Unsubscribe an address (its address is deleted)',
    ok: [{ status: 204, description: 'Deleted' }],
    errors: [404],
    handle: async ({ services, tenant, params: { id }, requestId }) => {
      if (!(await deleteSubscription(services, tenant, id))) throw notFound('subscription');
      log('notice_subscription_deleted', { requestId, tenantId: tenant.id, subscriptionId: id });
      return { status: 204, body: undefined };
    },
  }),

  route({
    method: 'POST',
    pattern: '/v1/subprocessor-notices/:id/objections',
    auth: { scope: 'keys:admin' },
    body: optionalJsonObject(ObjectionBody),
    summary: 'Object to a sub-processor notice before its first change takes effect',
    ok: [
      { status: 201, schema: NoticeObjection, description: 'Recorded' },
      { status: 200, schema: NoticeObjection, description: 'Recorded before; it stands' },
    ],
    errors: [400, 404, 409, 415],
    handle: async ({ services, tenant, actor, params: { id }, body }) => {
      const objection = await objectToNotice(services, tenant, id, body.reason, actor);
      return { status: objection.created ? 201 : 200, body: objection };
    },
  }),
];
