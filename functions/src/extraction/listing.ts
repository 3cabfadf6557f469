/**
 * Reading a tenant's extractions: one by id, or newest first one page at a time with optional
 * status and creation-time filters and an opaque page token that is signed, so a client can
 * neither forge a position nor carry a token over to another filter.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { badRequest, notFound } from '../errors';
import type { Services } from '../services';
import { isoToTimestamp, isValidId } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { readableExtraction } from './results';
import { EXTRACTION_STATUSES, toExtractionView, type ExtractionView } from './submit';

export const ListExtractionsQuery = z.strictObject({
  status: z.enum(EXTRACTION_STATUSES).optional(),
  createdAfter: z.iso.datetime({ offset: false }).optional(),
  pageToken: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListExtractionsQuery = z.infer<typeof ListExtractionsQuery>;

export interface ExtractionPage {
  data: ExtractionView[];
  /** Null on the last page. */
  nextPageToken: string | null;
}

interface Cursor {
  /** `submittedAt` of the last extraction of the page. */
  t: string;
  /** Its id. */
  i: string;
  /** The filter the page was listed under. */
  f: string;
}

function cursorMac(services: Services, payload: string): Buffer {
  return createHmac('sha256', services.config.API_KEY_PEPPER)
    .update('extractions-page-token\0')
    .update(payload)
    .digest()
    .subarray(0, 16);
}

function filterKey(query: ListExtractionsQuery): string {
  return `${query.status ?? ''}|${query.createdAfter ?? ''}`;
}

/** `base64url(json).base64url(mac)`: opaque to clients, and any change to it is detected. */
export function encodeCursor(services: Services, cursor: Cursor): string {
  const payload = Buffer.from(JSON.stringify(cursor)).toString('base64url');
  return `${payload}.${cursorMac(services, payload).toString('base64url')}`;
}

export function decodeCursor(services: Services, token: string, filter: string): Cursor {
  const invalid = () =>
    badRequest('invalid_page_token', 'pageToken is not a token this API issued for this query');
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) throw invalid();
  const given = Buffer.from(mac, 'base64url');
  const expected = cursorMac(services, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = z
    .strictObject({ t: z.iso.datetime(), i: z.string(), f: z.string() })
    .safeParse(cursor);
  if (!parsed.success || parsed.data.f !== filter || !isValidId(parsed.data.i)) throw invalid();
  return parsed.data;
}

/** One extraction as the API shows it; unknown ids and other tenants' ids are the same 404. */
export async function getExtraction(
  services: Services,
  tenant: TenantProfile,
  id: string,
): Promise<ExtractionView> {
  const db = services.platform.tenantDb(tenant);
  const data = isValidId(id) ? await db.get('extractions', id) : undefined;
  if (!data) throw notFound('extraction');
  return toExtractionView(id, await readableExtraction(services, tenant, db, id, data));
}

/** One page of the tenant's extractions as the API shows them; 400 for a foreign page token. */
export async function listExtractions(
  services: Services,
  tenant: TenantProfile,
  query: ListExtractionsQuery,
): Promise<ExtractionPage> {
  const filter = filterKey(query);
  const cursor =
    query.pageToken === undefined ? undefined : decodeCursor(services, query.pageToken, filter);
  const where: [string, '==' | '>', unknown][] = [];
  if (query.status) where.push(['status', '==', query.status]);
  if (query.createdAfter) where.push(['submittedAt', '>', isoToTimestamp(query.createdAfter)]);
  const db = services.platform.tenantDb(tenant);
  const docs = await db.list('extractions', {
    where,
    orderBy: [
      ['submittedAt', 'desc'],
      ['__name__', 'desc'],
    ],
    ...(cursor ? { startAfter: [isoToTimestamp(cursor.t), cursor.i] } : {}),
    limit: query.limit + 1,
  });
  const page = docs.slice(0, query.limit);
  const last = page[page.length - 1];
  const more = docs.length > query.limit && last !== undefined;
  return {
    data: await Promise.all(
      page.map(async (d) =>
        toExtractionView(d.id, await readableExtraction(services, tenant, db, d.id, d.data)),
      ),
    ),
    nextPageToken: more
      ? encodeCursor(services, { t: String(last.data.submittedAt), i: last.id, f: filter })
      : null,
  };
}
