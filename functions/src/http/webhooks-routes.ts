/**
 * Webhook endpoints for a tenant's admins (`keys:admin`): register (https only, public
 * addresses only; the signing secret is shown once), list (never the secret), delete. Another
 * tenant's endpoint id answers exactly like an unknown one.
 */
import { z } from 'zod';
import { actorLabel } from '../evidence/actor';
import { notFound } from '../errors';
import { log } from '../logging';
import { WEBHOOK_EVENTS } from '../webhooks/events';
import { WebhookUrlError } from '../webhooks/ssrf';
import { createWebhook, deleteWebhook, listWebhooks, toWebhookView } from '../webhooks/store';
import { jsonObject } from './body';
import { route } from './route';
import { Webhook } from './views';

export const CreateWebhookBody = z.strictObject({
  url: z.string().min(1).max(2048),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .default([...WEBHOOK_EVENTS]),
});

export const webhookRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/webhooks',
    auth: { scope: 'keys:admin' },
    summary: 'List webhook endpoints',
    ok: [
      {
        status: 200,
        schema: z.strictObject({ webhooks: z.array(Webhook) }),
        description: 'Endpoints, never secrets',
      },
    ],
    errors: [],
    handle: async ({ services, tenant }) => {
      const rows = await listWebhooks(services, tenant);
      const webhooks = rows
        .map(({ id, record }) => toWebhookView(id, record))
        .sort(
          (a, b) =>
            (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id),
        );
      return { status: 200, body: { webhooks } };
    },
  }),

  route({
    method: 'POST',
    pattern: '/v1/webhooks',
    auth: { scope: 'keys:admin' },
    body: jsonObject(CreateWebhookBody),
    summary: 'Register a webhook endpoint',
    ok: [{ status: 201, schema: Webhook, description: 'Registered; the secret is shown once' }],
    errors: [400, 415, 422],
    handle: async ({ services, tenant, actor, body, requestId }) => {
      try {
        const { webhook, secret } = await createWebhook(services, tenant, {
          url: body.url,
          events: body.events,
          createdBy: actorLabel(actor),
        });
        log('webhook_created', { requestId, tenantId: tenant.id, webhookId: webhook.id });
        return {
          status: 201,
          body: { ...webhook, secret },
          headers: { 'Cache-Control': 'no-store' },
        };
      } catch (err) {
        if (err instanceof WebhookUrlError)
          log('webhook_url_refused', { requestId, tenantId: tenant.id, reason: err.reason });
        throw err;
      }
    },
  }),

  route({
    method: 'DELETE',
    pattern: '/v1/webhooks/:id',
    auth: { scope: 'keys:admin' },
    summary: 'Delete a webhook endpoint',
    ok: [{ status: 204, description: 'Deleted (also when it already was)' }],
    errors: [404],
    handle: async ({ services, tenant, params: { id }, requestId }) => {
      if (!(await deleteWebhook(services, tenant, id))) throw notFound('webhook');
      log('webhook_deleted', { requestId, tenantId: tenant.id, webhookId: id });
      return { status: 204, body: undefined };
    },
  }),
];
