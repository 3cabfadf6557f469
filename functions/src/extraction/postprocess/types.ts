/**
 * What post-processing steps share: the result shape customers receive, the context a step
 * reads, the step contract, and the error a step throws on output the model got wrong.
 *
 * A step is named, versioned and pure. It never changes behaviour under the same version: a
 * change is a new version, and evidence records name the versions that ran, so replaying them
 * on the stored raw response reproduces the output byte for byte.
 */
import type { ExtractionSchema } from '../schemas/types';

export interface SourceSpan {
  text: string;
  start: number;
  end: number;
  /** 1-based page of a PDF (its pages are separated by form feeds); absent for one-page text. */
  page?: number;
}

export interface Field {
  value: string | number | null;
  source: SourceSpan | null;
  /** False when the model gave a value it could not point to in the document. */
  grounded: boolean;
}

export interface Issue {
  code: string;
  field: string;
  message: string;
}

export interface ExtractionResult {
  fields: Record<string, Field>;
  lineItems: Record<string, Field>[];
  issues: Issue[];
}

export interface StepContext {
  documentText: string;
  schema: ExtractionSchema;
}

export interface Step {
  name: string;
  version: number;
  run(input: unknown, context: StepContext): unknown;
}

export class InvalidModelOutputError extends Error {
  override readonly name = 'InvalidModelOutputError';
}
