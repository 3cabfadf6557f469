/**
 * The post-processing registry: the ordered list of steps new extractions run, and every step
 * version that ever ran, so any recorded evidence can be replayed byte for byte. Adding a step
 * is its own file in this folder and one line here; changing one is a new version whose old
 * version moves to RETIRED.
 */
import { z } from 'zod';
import { unprocessable } from '../../errors';
import { canonicalJson } from '../../evidence/canonical';
import { DATE_ORDERS } from '../../tenancy/platform';
import { groundQuotesV1, groundQuotesV2 } from './ground-quotes';
import { groundQuotesV3 } from './ground-quotes-v3';
import { normalizeAmounts } from './normalize-amounts';
import { normalizeAmountsV2 } from './normalize-amounts-v2';
import { normalizeDates } from './normalize-dates';
import { normalizeDatesV2 } from './normalize-dates-v2';
import { parseOutput } from './parse-output';
import { reconcileTotals } from './reconcile-totals';
import type { ExtractionResult, Step, StepContext, StepSettings } from './types';

/** The steps new extractions of a built-in schema run, in order. */
export const STEPS: readonly Step[] = [
  parseOutput,
  groundQuotesV3,
  normalizeAmountsV2,
  normalizeDatesV2,
  reconcileTotals,
];

/**
 * The steps new extractions of a custom schema run: the built-in ones the field types allow
 * (there are no totals to reconcile in a schema we know nothing of).
 */
export const CUSTOM_STEPS: readonly Step[] = [
  parseOutput,
  groundQuotesV3,
  normalizeAmountsV2,
  normalizeDatesV2,
];

/** Step versions new extractions no longer run, kept so records made with them still replay. */
const RETIRED: readonly Step[] = [groundQuotesV1, groundQuotesV2, normalizeAmounts, normalizeDates];

/** Every step version that ever ran, so any recorded evidence can be replayed. */
const REGISTRY = new Map([...STEPS, ...RETIRED].map((s) => [`${s.name}@${String(s.version)}`, s]));

export interface StepRecord {
  step: string;
  version: number;
  inputSha256: string;
  outputSha256: string;
  /** The tenant settings the step read, as they were; absent when it read none that were set. */
  settings?: Record<string, string>;
}

/** A step version to run; `settings` (replay) are the recorded ones, used instead of the tenant's. */
export interface StepToRun {
  step: string;
  version: number;
  settings?: Record<string, string>;
}

const RecordedSettings = z.strictObject({ dateOrder: z.enum(DATE_ORDERS).optional() });

/** The values of the settings `impl` reads, from the context or (replay) from the record. */
function settingsFor(
  impl: Step,
  context: StepContext,
  recorded: Record<string, string> | undefined,
): StepSettings {
  if (recorded !== undefined) {
    const parsed = RecordedSettings.safeParse(recorded);
    if (!parsed.success)
      throw unprocessable('unknown_step_settings', `recorded settings of ${impl.name} are unknown`);
    return parsed.data;
  }
  const settings: StepSettings = {};
  for (const key of impl.reads ?? []) {
    const value = context.settings?.[key];
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

/** Serialized form hashed before and after each step: strings as-is, JSON canonically. */
export function stepBytes(value: unknown): string {
  return typeof value === 'string' ? value : canonicalJson(value);
}

/**
 * Runs the named step versions in order. `hash` is the salted commitment of the result's data
 * key, so the recorded hashes cannot confirm a guessed output once the result is erased.
 *
 * A step reads the tenant settings it names from `context.settings`, and its record keeps their
 * values. Replay names the recorded steps with their recorded `settings` (`{}` when none were
 * recorded), which then replace the context's: a step never reads today's settings for a record
 * made under other ones.
 */
export function runSteps(
  rawOutput: string,
  context: StepContext,
  hash: (bytes: string) => string,
  steps: readonly StepToRun[] = STEPS.map((s) => ({
    step: s.name,
    version: s.version,
  })),
): { result: ExtractionResult; records: StepRecord[] } {
  let current: unknown = rawOutput;
  const records: StepRecord[] = [];
  for (const { step, version, settings: recorded } of steps) {
    const impl = REGISTRY.get(`${step}@${version}`);
    if (!impl)
      throw unprocessable(
        'unknown_step',
        `post-processing step ${step}@${version} is not available`,
      );
    const settings = settingsFor(impl, context, recorded);
    const inputSha256 = hash(stepBytes(current));
    current = impl.run(current, { ...context, settings });
    const record: StepRecord = {
      step,
      version,
      inputSha256,
      outputSha256: hash(stepBytes(current)),
    };
    if (Object.keys(settings).length > 0) record.settings = { ...settings };
    records.push(record);
  }
  return { result: current as ExtractionResult, records };
}
