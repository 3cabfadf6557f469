/**
 * What post-processing steps share: the result shape customers receive, the context a step
 * reads, the step contract, and the error a step throws on output the model got wrong.
 *
 * A step is named, versioned and pure. It never changes behaviour under the same version: a
 * change is a new version, and evidence records name the versions that ran, so replaying them
 * on the stored raw response reproduces the output byte for byte.
 */
import type { ExtractionSchema } from '../schemas/types';
import type { DateOrder } from '../../tenancy/platform';

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
  /**
   * ground-quotes@3: the places that fit the value equally well (the first 10), when there are
   * several; the field is then not grounded (`source` null) and an `ambiguous` issue names it.
   */
  candidates?: SourceSpan[];
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

/**
 * A custom schema's result: `data` is the object in the tenant's schema (normalized where the
 * field's type allows), `fields` grounds each string and number in it, keyed by JSON pointer
 * (`/total`, `/lines/0/price`).
 */
export interface CustomResult {
  data: unknown;
  fields: Record<string, Field>;
  issues: Issue[];
}

/**
 * Tenant settings a step may read. A step lists the ones it reads (`reads`); the evidence
 * records their values with the step, and replay passes the recorded values back, so a tenant
 * changing a setting later never changes how an earlier result replays.
 */
export interface StepSettings {
  dateOrder?: DateOrder;
}

export interface StepContext {
  documentText: string;
  schema: ExtractionSchema;
  settings?: StepSettings;
}

export interface Step {
  name: string;
  version: number;
  /** The settings the step reads; absent: none, and it behaves the same for every tenant. */
  reads?: readonly (keyof StepSettings)[];
  run(input: unknown, context: StepContext): unknown;
}

export class InvalidModelOutputError extends Error {
  override readonly name = 'InvalidModelOutputError';
}
