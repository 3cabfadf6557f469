/**
 * Content-addressed copies of what the model saw, beside a tenant's records in the audit
 * export: the system prompt's text and the schema version's canonical JSON, each in a file
 * named by the SHA-256 of its bytes (`model.systemPromptSha256`, `output.schemaSha256` of an
 * extraction record). An auditor resolves either hash offline, and checks the name against the
 * bytes.
 *
 * Layout (relative to the export root): `{tenantId}/content/{sha256}`.
 */
import { sha256Hex } from './canonical';
import type { EvidenceRecord } from './record';

export const CONTENT_PATH_RE = /^([^/]+)\/content\/([0-9a-f]{64})$/;

export function contentPath(prefix: string, tenantId: string, sha256: string): string {
  const root = prefix.replace(/\/+$/, '');
  return `${root === '' ? '' : `${root}/`}${tenantId}/content/${sha256}`;
}

/** The content hashes an extraction record names (none for other kinds or older records). */
export function contentHashesOf(record: EvidenceRecord): string[] {
  if (record.kind !== 'extraction' || record.output.schemaSha256 === undefined) return [];
  return [record.model.systemPromptSha256, record.output.schemaSha256];
}

/** A problem with a content file, or undefined when its bytes hash to its name. */
export function checkContentFile(sha256: string, bytes: Buffer): string | undefined {
  const actual = sha256Hex(bytes);
  return actual === sha256 ? undefined : `content ${sha256} hashes to ${actual}`;
}
