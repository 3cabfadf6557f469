/**
 * The evidence record: the immutable tuple that answers "which model, which prompt and which
 * rule produced this output". Hashes stay in clear; customer content is referenced only as
 * ciphertext under the tenant's keys. `contentSha256` covers every other field in RFC 8785
 * canonical form, so one changed byte anywhere changes it.
 */
import { z } from 'zod';
import { ActorSchema } from './actor';
import { canonicalSha256 } from './canonical';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const AttemptSchema = z.strictObject({
  provider: z.string(),
  model: z.string(),
  outcome: z.enum([
    'ok',
    'rate_limited',
    'server_error',
    'timeout',
    'invalid_output',
    'refused',
    'error',
    /** The answer hit its output budget (OpenAI `finish_reason: "length"`, Anthropic `stop_reason: "max_tokens"`). */
    'truncated',
    /** The provider account's billing quota is spent (OpenAI 429 `insufficient_quota`). */
    'quota_exhausted',
  ]),
  latencyMs: z.number().int().nonnegative(),
  providerRequestId: z.string().nullable(),
  /**
   * SHA-256 over the canonical JSON of the request body sent, the document's content replaced
   * by its salted commitment (`request.payloadSha256`). Absent in records made before it.
   */
  requestSha256: Hex64.optional(),
  /** The output budget the attempt asked for. Absent in records made before it. */
  maxOutputTokens: z.number().int().positive().optional(),
});

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One model call and everything that turned its answer into the customer's result. */
export const ExtractionEvidenceSchema = z.strictObject({
  id: z.string(),
  tenantId: z.string(),
  extractionId: z.string(),
  kind: z.literal('extraction'),
  request: z.strictObject({
    payloadSha256: Hex64,
    contentType: z.string(),
    bytes: z.number().int().nonnegative(),
    ciphertextRef: z.string(),
  }),
  model: z.strictObject({
    provider: z.string(),
    model: z.string(),
    modelVersion: z.string(),
    systemPromptSha256: Hex64,
    promptTemplateVersion: z.string(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    providerSettings: z.record(
      z.string(),
      z.union([z.string(), z.number(), z.boolean(), z.null()]),
    ),
  }),
  response: z.strictObject({
    rawSha256: Hex64,
    ciphertextRef: z.string(),
    usage: z.strictObject({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
    latencyMs: z.number().int().nonnegative(),
    attempts: z.array(AttemptSchema),
  }),
  postProcessing: z.array(
    z.strictObject({
      step: z.string(),
      version: z.number().int(),
      inputSha256: Hex64,
      outputSha256: Hex64,
      /** Tenant settings the step read (`dateOrder`), as they were when it ran. */
      settings: z.record(z.string(), z.string()).optional(),
    }),
  ),
  output: z.strictObject({
    sha256: Hex64,
    /** The schema's id (its name) and the version the model saw. */
    schema: z.string(),
    schemaVersion: z.number().int(),
    /**
     * SHA-256 of that version's canonical form (`extraction/schemas/definition.ts`); absent
     * from records written before schemas were versioned.
     */
    schemaSha256: Hex64.optional(),
  }),
  actor: ActorSchema,
  subprocessors: z.array(z.string()),
});
export type ExtractionEvidenceBody = z.infer<typeof ExtractionEvidenceSchema>;

export const EVENT_KINDS = [
  'erasure',
  'offboarding',
  'key_rotation',
  'content_access',
  /** A new configuration fingerprint (`evidence/fingerprint.ts`), in the `platform` log only. */
  'configuration',
  /** A sub-processor notice delivered to one of the tenant's confirmed addresses. */
  'subprocessor_notice',
  /** The tenant objected to a sub-processor notice inside its window. */
  'subprocessor_objection',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * Something done to customer data or keys that an auditor must be able to see in the same
 * sealed log: an erasure, an offboarding certificate, a key rotation, a break-glass read, or
 * (in the `platform` log) a change of the platform's configuration.
 */
export const EventEvidenceSchema = z.strictObject({
  id: z.string(),
  tenantId: z.string(),
  kind: z.enum(EVENT_KINDS),
  subject: z.strictObject({ type: z.string(), id: z.string() }),
  details: z.record(z.string(), z.union([Scalar, z.array(z.string())])),
  actor: ActorSchema,
});
export type EventEvidenceBody = z.infer<typeof EventEvidenceSchema>;

export const EvidenceBodySchema = z.discriminatedUnion('kind', [
  ExtractionEvidenceSchema,
  EventEvidenceSchema,
]);
export type EvidenceBody = z.infer<typeof EvidenceBodySchema>;

const Stored = {
  contentSha256: Hex64,
  /** Firestore commit time of its write. */ createdAt: z.string(),
};
/**
 * Drops what Firestore stores beside a record but is no part of it: `expireAt`, the TTL
 * policy's field (ledger/evidence-writer.ts). Like `createdAt` it is outside the hash; unlike
 * it, it is not exported either, so a record reads and exports the same before and after.
 */
function withoutStorageFields(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !('expireAt' in value)) return value;
  const { expireAt: _expireAt, ...record } = value as Record<string, unknown>;
  return record;
}
export const ExtractionEvidenceRecordSchema = z.preprocess(
  withoutStorageFields,
  ExtractionEvidenceSchema.extend(Stored),
);
export const EvidenceRecordSchema = z.preprocess(
  withoutStorageFields,
  z.discriminatedUnion('kind', [
    ExtractionEvidenceSchema.extend(Stored),
    EventEvidenceSchema.extend(Stored),
  ]),
);
export type EvidenceRecord = z.infer<typeof EvidenceRecordSchema>;
export type ExtractionEvidenceRecord = z.infer<typeof ExtractionEvidenceRecordSchema>;

export function contentHash(body: EvidenceBody): string {
  return canonicalSha256(EvidenceBodySchema.parse(body));
}

/** Deterministic per extraction, so a redelivered message cannot create a second record. */
export function evidenceIdFor(extractionId: string): string {
  return `ev_${extractionId}`;
}

/**
 * True when the stored record still hashes to its own `contentSha256`. A record that no longer
 * has the tuple's exact shape (a field added, removed or retyped) is not intact either.
 */
export function verifyContentHash(record: EvidenceRecord): boolean {
  const { contentSha256, createdAt: _createdAt, ...body } = record;
  const parsed = EvidenceBodySchema.safeParse(body);
  return parsed.success && canonicalSha256(parsed.data) === contentSha256;
}
