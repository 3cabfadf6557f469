/**
 * What the pipeline needs to know about a schema, built-in or the tenant's own: the shape the
 * model answers, the JSON Schema sent to the providers, and what post-processing runs on it.
 */
import type { z } from 'zod';

export interface ExtractionSchema {
  name: string;
  /** Versions are immutable: a change is a new version (`definition.ts`). */
  version: number;
  description: string;
  /** SHA-256 of the version's canonical form (`schemaSha256`), recorded in the evidence. */
  sha256: string;
  modelOutput: z.ZodType;
  /** JSON Schema for the providers' strict structured-output modes. */
  jsonSchema: Record<string, unknown>;
  /** Fields holding money amounts, normalized to decimal strings. */
  amountFields: readonly string[];
  dateFields: readonly string[];
  /** Built-in schemas answer grounded fields; custom ones answer the tenant's schema as given. */
  kind?: 'builtIn' | 'custom';
  /**
   * A custom schema as the tenant registered it, with the `format` annotations (`amount`,
   * `date`) that post-processing reads; `jsonSchema` is what the providers are sent.
   */
  tenantSchema?: Record<string, unknown>;
  /** Post-processing steps to run, when not the full built-in list. */
  steps?: readonly { step: string; version: number }[];
}
