/**
 * A notice to customers of a change to the sub-processor registry, as data: built from the
 * change set `diffRegistries` computes between two git refs, named by the SHA-256 of that
 * change set (so announcing the same change twice names the same notice), and rendered as the
 * mail a subscriber receives. Data and zod only, like the rest of this folder: storing,
 * delivering and objecting live in `webhooks/subprocessor-notices.ts`.
 *
 * A notice carries registry data and nothing else: vendor ids, names, purposes, data
 * categories, locations, dates and reasons, all of them public on the trust page.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChangeSet, SubprocessorChange } from './diff';
import type { Subprocessor } from './registry';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** One changed vendor as a notice tells it: the registry entry's public fields after the change. */
export const NoticeChangeSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(['added', 'removed', 'changed']),
  fields: z.array(z.string()),
  legalName: z.string(),
  purpose: z.string(),
  dataCategories: z.array(z.string()),
  locations: z.array(z.string()),
  /** The entry's status after the change (`removed`: its status before it was deleted). */
  status: z.string(),
  /** The day the change takes effect for customers. */
  effective: IsoDay,
  reason: z.string(),
});
export type NoticeChange = z.infer<typeof NoticeChangeSchema>;

export const SubprocessorNoticeSchema = z.strictObject({
  /** `spn_` and the first 32 hex digits of `changeSetSha256`. */
  id: z.string().regex(/^spn_[0-9a-f]{32}$/),
  changeSetSha256: Hex64,
  /** The commits the change set was computed between. */
  fromCommit: z.string(),
  toCommit: z.string(),
  /** The UTC day the notice was announced (`provenant subprocessors announce`). */
  announcedOn: IsoDay,
  changes: z.array(NoticeChangeSchema).min(1),
  vendorIds: z.array(z.string()).min(1),
  /** Every distinct effective day, sorted. */
  effectiveDates: z.array(IsoDay).min(1),
  /**
   * The last day an objection is accepted is the day before this one: the earliest effective
   * day of the notice, the first day a change applies.
   */
  objectionWindowClosesOn: IsoDay,
});
export type SubprocessorNotice = z.infer<typeof SubprocessorNoticeSchema>;

/** JSON with object keys sorted, so key order never changes a hash. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/**
 * SHA-256 over the change set's sorted-key JSON. The same change between any two refs hashes
 * alike: a rerun of `announce` (or a second deploy of the same commit) names the same notice.
 */
export function changeSetSha256(changeSet: ChangeSet): string {
  return createHash('sha256').update(stableJson(changeSet)).digest('hex');
}

export function noticeIdFor(sha256: string): string {
  return `spn_${sha256.slice(0, 32)}`;
}

function noticeChange(change: SubprocessorChange, announcedOn: string): NoticeChange {
  const entry = (change.after ?? change.before) as Subprocessor;
  return {
    id: change.id,
    kind: change.kind,
    fields: change.fields,
    legalName: entry.legalName,
    purpose: entry.purpose,
    dataCategories: entry.dataCategories,
    locations: entry.locations,
    status: entry.status,
    // A deleted file says nothing about when: the vendor is gone from the day it is announced.
    effective: change.after ? change.after.effective : announcedOn,
    reason: entry.reason,
  };
}

/**
 * The notice of `changeSet`, or undefined when it is empty: nothing changed, nobody is told.
 * The objection window closes on the earliest effective day (never before the announcement).
 */
export function buildNotice(input: {
  changeSet: ChangeSet;
  fromCommit: string;
  toCommit: string;
  announcedOn: string;
}): SubprocessorNotice | undefined {
  const { changeSet, announcedOn } = input;
  if (changeSet.changes.length === 0) return undefined;
  const sha = changeSetSha256(changeSet);
  const changes = changeSet.changes.map((c) => noticeChange(c, announcedOn));
  const effectiveDates = [...new Set(changes.map((c) => c.effective))].sort();
  const earliest = effectiveDates[0] as string;
  return SubprocessorNoticeSchema.parse({
    id: noticeIdFor(sha),
    changeSetSha256: sha,
    fromCommit: input.fromCommit,
    toCommit: input.toCommit,
    announcedOn,
    changes,
    vendorIds: changes.map((c) => c.id),
    effectiveDates,
    objectionWindowClosesOn: earliest < announcedOn ? announcedOn : earliest,
  });
}

/** Whether an objection made on `day` is inside the notice's window. */
export function objectionWindowOpen(notice: SubprocessorNotice, day: string): boolean {
  return day < notice.objectionWindowClosesOn;
}

export interface MailContent {
  subject: string;
  text: string;
}

const KIND_WORDS: Record<NoticeChange['kind'], string> = {
  added: 'New sub-processor',
  removed: 'Sub-processor removed',
  changed: 'Sub-processor changed',
};

/**
 * The notice mail: what changes, when, and how to object before the window closes. Plain
 * text, built from registry data only.
 */
export function renderNoticeMail(
  notice: SubprocessorNotice,
  links: { trustPage?: string | undefined; objectionsUrl: string },
): MailContent {
  const vendors = notice.changes.map((c) => c.legalName).join(', ');
  const lines = [
    `Provenant is changing its sub-processors. Notice ${notice.id}, announced ${notice.announcedOn}.`,
    '',
  ];
  for (const c of notice.changes) {
    lines.push(
      `${KIND_WORDS[c.kind]}: ${c.legalName} (${c.id}), effective ${c.effective}`,
      `  Purpose: ${c.purpose}`,
      `  Data: ${c.dataCategories.join('; ')}`,
      `  Locations: ${c.locations.join(', ')}`,
      `  Status: ${c.status}`,
      `  Reason: ${c.reason}`,
    );
    if (c.kind === 'changed') lines.push(`  Changed fields: ${c.fields.join(', ')}`);
    lines.push('');
  }
  lines.push(
    `You may object until ${notice.objectionWindowClosesOn} (the day the first change takes effect): ` +
      `POST ${links.objectionsUrl} with an API key holding keys:admin.`,
    `Change set SHA-256: ${notice.changeSetSha256} (registry ${notice.fromCommit.slice(0, 12)}..${notice.toCommit.slice(0, 12)}).`,
  );
  if (links.trustPage) lines.push(`The full list: ${links.trustPage}`);
  return {
    subject: `Sub-processor notice: ${vendors} (effective ${notice.effectiveDates[0] ?? ''})`,
    text: `${lines.join('\n')}\n`,
  };
}

/** The confirmation mail: one link, which confirms and proves the address receives mail. */
export function renderConfirmationMail(confirmUrl: string): MailContent {
  return {
    subject: 'Confirm your Provenant sub-processor notice subscription',
    text:
      [
        'Someone with an administrator key of your Provenant tenant subscribed this address to',
        'notices of changes to our sub-processors (30 days ahead of each change).',
        '',
        `Confirm: ${confirmUrl}`,
        '',
        'Until it is confirmed this address receives no notice. If you did not expect this mail,',
        'ignore it.',
      ].join('\n') + '\n',
  };
}
