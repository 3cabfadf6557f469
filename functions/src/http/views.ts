/**
 * The shapes of what the API answers, as the OpenAPI document describes them. Schemas with an
 * `id` land in `components.schemas` and are referenced wherever they occur.
 */
import { z } from 'zod';
import { EXTRACTION_STATUSES } from '../extraction/submit';
import { API_KEY_SCOPES } from '../tenancy/platform';

export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('Stable, machine-readable error code.'),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export const Extraction = z
  .strictObject({
    id: z.string(),
    status: z.enum(EXTRACTION_STATUSES),
    schema: z.string(),
    createdAt: z.string().nullable(),
    result: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Built-in schemas: {fields, lineItems, issues} with grounded values; custom schemas: {data, issues}.',
      ),
    evidenceId: z.string().optional(),
    model: z
      .strictObject({ provider: z.string(), model: z.string(), modelVersion: z.string() })
      .optional(),
    error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    webhookUrl: z.string().optional(),
    erasedAt: z
      .string()
      .optional()
      .describe(
        'Set once the extraction was erased (DELETE): its original, raw response and result are crypto-shredded; the evidence stays.',
      ),
  })
  .meta({ id: 'Extraction' });

export const ExtractionPage = z
  .strictObject({ data: z.array(Extraction), nextPageToken: z.string().nullable() })
  .meta({ id: 'ExtractionPage' });

export const Schema = z
  .strictObject({
    name: z.string(),
    version: z.number().int().describe('Versions are immutable: a change is the next version.'),
    sha256: z
      .string()
      .describe("SHA-256 of the version's canonical form, as evidence records name it."),
    builtIn: z.boolean(),
    description: z.string(),
    jsonSchema: z.record(z.string(), z.unknown()),
    createdAt: z.string().nullable().describe('When this version was created.'),
  })
  .meta({ id: 'Schema' });

export const Prompt = z
  .strictObject({
    sha256: z.string().describe("SHA-256 of `text`: an evidence record's `systemPromptSha256`."),
    text: z.string().describe('The system prompt exactly as the model was sent it.'),
    templateVersion: z.string(),
    createdAt: z.string().nullable().describe("When this tenant's pipeline first sent it."),
  })
  .meta({ id: 'Prompt' });

export const ApiKey = z
  .strictObject({
    keyId: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    createdAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    token: z.string().optional().describe('The secret, shown once when a key is issued.'),
    rotatedFrom: z.string().optional(),
    rotatedTo: z
      .string()
      .optional()
      .describe(
        'The one key that replaced this one; during the overlap this key still works until its expiresAt.',
      ),
  })
  .meta({ id: 'ApiKey' });

export const Webhook = z
  .looseObject({ id: z.string(), url: z.string(), events: z.array(z.string()) })
  .meta({ id: 'Webhook' });

/** A JSON object the document does not detail. */
export const AnyObject = z.record(z.string(), z.unknown());

export const NoticeSubscription = z
  .strictObject({
    id: z.string(),
    email: z.string(),
    status: z
      .enum(['pending', 'confirmed'])
      .describe('A pending address receives no notice until its mailed link is followed.'),
    createdAt: z.string().nullable(),
    confirmedAt: z.string().nullable(),
  })
  .meta({ id: 'NoticeSubscription' });

export const NoticeObjection = z
  .strictObject({
    noticeId: z.string(),
    evidenceId: z.string().describe('The `subprocessor_objection` record in the tenant log.'),
    created: z.boolean().describe('False when the tenant had objected to this notice already.'),
  })
  .meta({ id: 'NoticeObjection' });
