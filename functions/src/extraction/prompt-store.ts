/**
 * What the model saw, kept by the SHA-256 of its bytes: the system prompt's text and the schema
 * version's canonical JSON (the bytes `schemaSha256` hashes). The `systemPromptSha256` and
 * `schemaSha256` of an evidence record are so answered with content
 * (`GET /v1/content/prompts/{hash}`), whatever the prompt template or the built-in schemas have
 * become since, and the sealer exports the same bytes beside the records
 * (`ledger/content-export.ts`). Stored per tenant (a custom schema's name is in its prompt),
 * create-only: a document's id is the hash of its bytes, so no write can change it.
 */
import { canonicalJson, sha256Hex } from '../evidence/canonical';
import { COMMIT_TIME, type TenantDb, type TenantTransaction } from '../tenancy/firestore';
import type { BuiltPrompt } from './prompt';
import type { ExtractionSchema } from './schemas/types';

export interface PromptView {
  sha256: string;
  text: string;
  templateVersion: string;
  /** When the prompt was first sent for this tenant. */
  createdAt: string | null;
}

/** The canonical form `schemaSha256` hashes (`schemas/definition.ts`), as bytes. */
function schemaBytes(schema: ExtractionSchema): string {
  const { name, version, description } = schema;
  return canonicalJson({
    kind: schema.kind ?? 'builtIn',
    name,
    version,
    description,
    jsonSchema: schema.tenantSchema ?? schema.jsonSchema,
  });
}

/** A content record the evidence names: a prompt's text or a schema version's canonical JSON. */
export interface ModelInput {
  sha256: string;
  type: 'prompt' | 'schema';
  bytes: string;
  templateVersion: string | null;
}

/** What the model saw, as the content records kept beside the evidence that names it. */
export function modelInputs(prompt: BuiltPrompt, schema: ExtractionSchema): ModelInput[] {
  return [
    {
      sha256: prompt.systemSha256,
      type: 'prompt',
      bytes: prompt.system,
      templateVersion: prompt.templateVersion,
    },
    { sha256: schema.sha256, type: 'schema', bytes: schemaBytes(schema), templateVersion: null },
  ];
}

/** The references of the inputs' content records, to read in the committing transaction. */
export function modelInputRefs(inputs: readonly ModelInput[]): (readonly ['content', string])[] {
  return inputs.map((input) => ['content', input.sha256] as const);
}

/**
 * Keeps the prompt's text and the schema version's canonical JSON in the transaction that
 * commits the evidence naming them: those not `known` (as read in that transaction, in the
 * order of `inputs`) are created.
 */
export function keepModelInputs(
  tx: TenantTransaction,
  inputs: readonly ModelInput[],
  known: readonly unknown[],
): void {
  inputs.forEach((item, i) => {
    // Kept only under the hash of its bytes: anything else would be a lie about the evidence.
    if (known[i] || sha256Hex(item.bytes) !== item.sha256) return;
    tx.create('content', item.sha256, { ...item, createdAt: COMMIT_TIME });
  });
}

export async function getPromptText(db: TenantDb, sha256: string): Promise<PromptView | undefined> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const data = await db.get('content', sha256);
  // The text must still hash to its id: a record that does not is not this prompt.
  if (data?.type !== 'prompt' || typeof data.bytes !== 'string' || sha256Hex(data.bytes) !== sha256)
    return undefined;
  return {
    sha256,
    text: data.bytes,
    templateVersion: typeof data.templateVersion === 'string' ? data.templateVersion : '',
    createdAt: typeof data.createdAt === 'string' ? data.createdAt : null,
  };
}
