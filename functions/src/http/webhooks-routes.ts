/**
 * Webhook endpoints for a tenant's admins (`keys:admin`): register (https only, public
 * addresses only; the signing secret is shown once), list (never the secret), delete. Another
 * tenant's endpoint id answers exactly like an unknown one.
 */
import type { Request } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { actorLabel } from '../evidence/actor';
import { badRequest, notFound, unsupportedMediaType } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { requireScope } from '../tenancy/api-keys';
import { WEBHOOK_EVENTS } from '../webhooks/events';
import { WebhookUrlError } from '../webhooks/ssrf';
import { createWebhook, deleteWebhook, listWebhooks, toWebhookView } from '../webhooks/store';
import { authenticate } from './auth';
import type { Router } from './router';

export const CreateWebhookBody = z.strictObject({
  url: z.string().min(1).max(2048),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .default([...WEBHOOK_EVENTS]),
});

function jsonObject(req: Request): unknown {
  if (!req.is('application/json'))
    throw unsupportedMediaType('send the request as application/json');
  const raw: unknown = req.body;
  if (raw === null || typeof raw !== 'object' || Buffer.isBuffer(raw) || Array.isArray(raw)) {
    throw badRequest('invalid_request', 'the request body must be a JSON object');
  }
  return raw;
}

export function registerWebhookRoutes(router: Router, services: Services): Router {
  router.on('GET', '/v1/webhooks', async ({ req, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const rows = await listWebhooks(services, tenant);
    const webhooks = rows
      .map(({ id, record }) => toWebhookView(id, record))
      .sort(
        (a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id),
      );
    return { status: 200, body: { webhooks } };
  });

  router.on('POST', '/v1/webhooks', async ({ req, requestId }) => {
    const { principal, tenant, actor } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const body = CreateWebhookBody.parse(jsonObject(req));
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
  });

  router.on('DELETE', '/v1/webhooks/:id', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const id = params.id ?? '';
    if (!(await deleteWebhook(services, tenant, id))) throw notFound('webhook');
    log('webhook_deleted', { requestId, tenantId: tenant.id, webhookId: id });
    return { status: 204, body: undefined };
  });

  return router;
}
