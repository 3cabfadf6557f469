/**
 * A tenant's webhook endpoints in `tenants/{t}/webhooks/{id}`. Each endpoint has its own
 * signing secret, shown once at creation and stored only sealed under the tenant's wrapping key
 * (AES-256-GCM, AAD `provenant/v1/{tenant}/webhook-secret/{id}`): a database reader sees no
 * usable secret, and shredding the tenant's KEK makes every secret unreadable with it.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { conflict } from '../errors';
import { objectAad, openBytes, sealBytes, type ObjectRef } from '../crypto/envelope';
import type { Services } from '../services';
import { log } from '../logging';
import { COMMIT_TIME, isValidId } from '../tenancy/firestore';
import { DELETE_FIELD, type TenantProfile } from '../tenancy/platform';
import { WEBHOOK_EVENTS, type WebhookEventType } from './events';
import { newWebhookSecret } from './signature';
import { checkWebhookUrl, type Resolver } from './ssrf';

export const MAX_WEBHOOKS_PER_TENANT = 10;

export const WebhookRecordSchema = z.object({
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
  tenantId: z.string(),
  createdBy: z.string(),
  createdAt: z.string().optional(),
  secret: z.object({ wrapped: z.string(), algorithm: z.literal('AES-256-GCM') }),
});
export type WebhookRecord = z.infer<typeof WebhookRecordSchema>;

export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string | null;
  createdBy: string;
}

export function toWebhookView(id: string, record: WebhookRecord): WebhookView {
  return {
    id,
    url: record.url,
    events: [...record.events],
    createdAt: record.createdAt ?? null,
    createdBy: record.createdBy,
  };
}

const secretRef = (id: string): ObjectRef => ({ kind: 'webhook-secret', id });

/**
 * A deleted endpoint stays as a tombstone (`deletedAt`, nothing else of it): DELETE is
 * idempotent like every DELETE of the API (204 again for the tenant's own id, 404 only for an
 * id that never was the tenant's), and the tombstone holds no URL, events or secret.
 */
const isLive = (row: { data: Record<string, unknown> }) => row.data.deletedAt === undefined;

function urlPolicy(services: Pick<Services, 'config'>) {
  return { allowLoopback: services.config.WEBHOOK_ALLOW_LOOPBACK };
}

export async function createWebhook(
  services: Services,
  tenant: TenantProfile,
  input: { url: string; events: readonly WebhookEventType[]; createdBy: string },
  resolver?: Resolver,
): Promise<{ webhook: WebhookView; secret: string }> {
  const url = await checkWebhookUrl(input.url, urlPolicy(services), resolver);
  const db = services.platform.tenantDb(tenant);
  const existing = (await db.list('webhooks')).filter(isLive);
  if (existing.length >= MAX_WEBHOOKS_PER_TENANT) {
    throw conflict(
      'webhook_limit',
      `a tenant has at most ${String(MAX_WEBHOOKS_PER_TENANT)} webhook endpoints`,
    );
  }
  const id = `wh_${randomBytes(12).toString('hex')}`;
  const secret = newWebhookSecret();
  const wrappingKey = await services.keys.wrappingKey(tenant);
  const sealed = sealBytes(wrappingKey, objectAad(tenant.id, secretRef(id)), Buffer.from(secret));
  const events = WEBHOOK_EVENTS.filter((e) => input.events.includes(e));
  await db.create('webhooks', id, {
    url: url.href,
    events,
    tenantId: tenant.id,
    createdBy: input.createdBy,
    createdAt: COMMIT_TIME,
    secret: { wrapped: sealed.toString('base64'), algorithm: 'AES-256-GCM' },
  });
  // The count above can be raced by concurrent registrations: the oldest endpoints keep their
  // places and one created past the limit is removed again, so the limit holds.
  const all = (await db.list('webhooks', { orderBy: [['createdAt', 'asc']] })).filter(isLive);
  if (all.findIndex((w) => w.id === id) >= MAX_WEBHOOKS_PER_TENANT) {
    await db.delete('webhooks', id);
    throw conflict(
      'webhook_limit',
      `a tenant has at most ${String(MAX_WEBHOOKS_PER_TENANT)} webhook endpoints`,
    );
  }
  const stored = await getWebhook(services, tenant, id);
  if (!stored) throw new Error('the new webhook could not be read back');
  return { webhook: toWebhookView(id, stored), secret };
}

export async function getWebhook(
  services: Services,
  tenant: TenantProfile,
  id: string,
): Promise<WebhookRecord | undefined> {
  if (!isValidId(id)) return undefined;
  const data = await services.platform.tenantDb(tenant).get('webhooks', id);
  return data && isLive({ data }) ? WebhookRecordSchema.parse(data) : undefined;
}

export async function listWebhooks(
  services: Services,
  tenant: TenantProfile,
): Promise<{ id: string; record: WebhookRecord }[]> {
  const rows = (await services.platform.tenantDb(tenant).list('webhooks')).filter(isLive);
  // Only the server writes webhooks (firestore.rules); a row that does not parse anyway (an
  // old client write, a manual edit) is skipped and logged, never allowed to stall deliveries.
  return rows.flatMap((row) => {
    const parsed = WebhookRecordSchema.safeParse(row.data);
    if (parsed.success) return [{ id: row.id, record: parsed.data }];
    log('webhook_record_invalid', { tenantId: tenant.id, webhookId: row.id });
    return [];
  });
}

/**
 * Deletes an endpoint, leaving a tombstone; true also when it was deleted before. False when
 * the id never was an endpoint of this tenant.
 */
export async function deleteWebhook(
  services: Services,
  tenant: TenantProfile,
  id: string,
): Promise<boolean> {
  if (!isValidId(id)) return false;
  const db = services.platform.tenantDb(tenant);
  return db.runTransaction(async (tx) => {
    const existing = await tx.get('webhooks', id);
    if (!existing) return false;
    if (isLive({ data: existing })) {
      tx.update('webhooks', id, {
        url: DELETE_FIELD,
        events: DELETE_FIELD,
        secret: DELETE_FIELD,
        createdBy: DELETE_FIELD,
        deletedAt: COMMIT_TIME,
      });
    }
    return true;
  });
}

/** The endpoint's signing secret, unsealed for one delivery; never logged or stored. */
export async function openWebhookSecret(
  services: Services,
  tenant: TenantProfile,
  id: string,
  record: WebhookRecord,
): Promise<string> {
  const wrappingKey = await services.keys.wrappingKey(tenant);
  return openBytes(
    wrappingKey,
    objectAad(tenant.id, secretRef(id)),
    Buffer.from(record.secret.wrapped, 'base64'),
    'webhook secret',
  ).toString('utf8');
}
