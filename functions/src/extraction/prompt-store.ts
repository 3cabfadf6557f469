/**
 * System prompts by their SHA-256, so the `systemPromptSha256` of an evidence record is
 * answered with the text the model was sent (`GET /v1/content/prompts/{sha256}`), whatever the
 * prompt template has become since. Stored per tenant (a custom schema's name is in its
 * prompt), create-only: a document's id is the hash of its text, so no write can change it.
 */
import { sha256Hex } from '../evidence/canonical';
import { COMMIT_TIME, type TenantDb, type TenantTransaction } from '../tenancy/firestore';
import type { BuiltPrompt } from './prompt';

export interface PromptView {
  sha256: string;
  text: string;
  templateVersion: string;
  /** When the prompt was first sent for this tenant. */
  createdAt: string | null;
}

/**
 * Keeps the prompt's text in the transaction that commits the evidence naming it. A read, so
 * call it before the transaction's first write.
 */
export async function keepPromptText(tx: TenantTransaction, prompt: BuiltPrompt): Promise<void> {
  if (await tx.get('prompts', prompt.systemSha256)) return;
  tx.create('prompts', prompt.systemSha256, {
    sha256: prompt.systemSha256,
    text: prompt.system,
    templateVersion: prompt.templateVersion,
    createdAt: COMMIT_TIME,
  });
}

export async function getPromptText(db: TenantDb, sha256: string): Promise<PromptView | undefined> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const data = await db.get('prompts', sha256);
  // The text must still hash to its id: a record that does not is not this prompt.
  if (!data || typeof data.text !== 'string' || sha256Hex(data.text) !== sha256) return undefined;
  return {
    sha256,
    text: data.text,
    templateVersion: typeof data.templateVersion === 'string' ? data.templateVersion : '',
    createdAt: typeof data.createdAt === 'string' ? data.createdAt : null,
  };
}
