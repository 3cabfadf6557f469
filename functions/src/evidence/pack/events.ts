/**
 * The event records the pack lists by section: break-glass reads (`content_access`),
 * sub-processor notices and objections, and key events (rotations, erasures, offboardings).
 * Kinds are matched by name, so a kind added by a newer platform lands in its section (or in
 * `other`) without a change here; only the fields every event has are read.
 */
import { inPeriod, type PackRecord, type Period } from './log';

export interface PackEvent {
  id: string;
  tenantId: string;
  kind: string;
  at: string;
  subject: { type: string; id: string } | null;
  details: Record<string, unknown>;
  actor: unknown;
  /** The seal that added it. */
  seq: number;
}

export const SECTION_KINDS = {
  access: ['content_access'],
  notices: ['subprocessor_notice', 'subprocessor_objection'],
  keys: ['key_rotation', 'erasure', 'offboarding'],
  changes: ['configuration'],
} as const;
export type Section = keyof typeof SECTION_KINDS | 'other';

/** Which section a kind belongs to. */
export function sectionOf(kind: string): Section | 'extraction' {
  if (kind === 'extraction') return 'extraction';
  for (const [section, kinds] of Object.entries(SECTION_KINDS))
    if ((kinds as readonly string[]).includes(kind)) return section as Section;
  return 'other';
}

function asEvent(r: PackRecord): PackEvent {
  const subject = r.body.subject as { type?: unknown; id?: unknown } | undefined;
  return {
    id: r.id,
    tenantId: r.tenantId,
    kind: r.kind,
    at: r.createdAt,
    subject:
      typeof subject?.type === 'string' && typeof subject.id === 'string'
        ? { type: subject.type, id: subject.id }
        : null,
    details:
      typeof r.body.details === 'object' && r.body.details !== null
        ? (r.body.details as Record<string, unknown>)
        : {},
    actor: r.body.actor ?? null,
    seq: r.seq,
  };
}

/** The period's events of one section, in log order. */
export function eventsIn(
  records: readonly PackRecord[],
  section: Section,
  period: Period,
): PackEvent[] {
  return records
    .filter((r) => sectionOf(r.kind) === section && inPeriod(period, r.createdAt))
    .map(asEvent);
}
