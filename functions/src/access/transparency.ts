/**
 * The tenant's view of every access to its content by the platform's people: the
 * `content_access` evidence records of its own log (break-glass reads, and replays from the
 * operator CLI), newest first, each with its grant (ticket, justification, approvers) and what it
 * touched. The feed is read from the same records that are sealed and exported, so what the
 * tenant sees here is what its auditors can verify.
 */
import { badRequest } from '../errors';
import { EventEvidenceSchema } from '../evidence/record';
import type { Services } from '../services';
import { isValidId } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { StoredRequestSchema } from './model';

export interface TransparencyEntry {
  evidenceId: string;
  accessedAt: string;
  actor: { kind: string; id: string };
  purpose: string;
  subject: { type: string; id: string };
  objects: string[];
  grant: {
    id: string;
    ticket: string;
    justification: string;
    requester: string;
    approvers: string[];
    expiresAt: string | null;
  } | null;
}

export interface TransparencyPage {
  data: TransparencyEntry[];
  nextPageToken: string | null;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function accessTransparency(
  services: Services,
  tenant: TenantProfile,
  options: { limit: number; pageToken?: string },
): Promise<TransparencyPage> {
  if (options.pageToken !== undefined && !isValidId(options.pageToken))
    throw badRequest('invalid_page_token', 'pageToken is not one this API issued');
  const db = services.platform.tenantDb(tenant);
  const rows = await db.list('evidence', {
    where: [['kind', '==', 'content_access']],
    orderBy: [['createdAt', 'desc']],
    limit: options.limit + 1,
    ...(options.pageToken === undefined ? {} : { startAfterId: options.pageToken }),
  });
  const page = rows.slice(0, options.limit);
  const requests = new Map<string, ReturnType<typeof StoredRequestSchema.parse> | null>();
  const data: TransparencyEntry[] = [];
  for (const row of page) {
    const record = EventEvidenceSchema.parse(
      Object.fromEntries(
        // The stored fields outside the record: its hash, commit time and TTL expiry.
        Object.entries(row.data).filter(
          ([k]) => k !== 'contentSha256' && k !== 'createdAt' && k !== 'expireAt',
        ),
      ),
    );
    const grantId = text(record.details.grantId);
    let request = grantId === null ? null : requests.get(grantId);
    if (grantId !== null && request === undefined) {
      const stored = await db.get('accessRequests', grantId);
      request = stored ? StoredRequestSchema.parse(stored) : null;
      requests.set(grantId, request);
    }
    data.push({
      evidenceId: record.id,
      accessedAt: text(row.data.createdAt) ?? '',
      actor: record.actor,
      purpose: text(record.details.purpose) ?? 'unknown',
      subject: record.subject,
      objects: strings(record.details.objects),
      grant:
        grantId === null
          ? null
          : {
              id: grantId,
              ticket: text(record.details.ticket) ?? request?.ticket ?? '',
              justification: request?.justification ?? '',
              requester: text(record.details.requester) ?? request?.requesterUid ?? '',
              approvers: strings(record.details.approvers),
              expiresAt: text(record.details.grantExpiresAt),
            },
    });
  }
  const last = page[page.length - 1];
  return { data, nextPageToken: rows.length > options.limit && last ? last.id : null };
}
