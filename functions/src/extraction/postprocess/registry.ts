/**
 * The post-processing registry: the ordered list of steps new extractions run, and every step
 * version that ever ran, so any recorded evidence can be replayed byte for byte. Adding a step
 * is its own file in this folder and one line here; changing one is a new version whose old
 * version moves to RETIRED.
 */
import { unprocessable } from '../../errors';
import { canonicalJson } from '../../evidence/canonical';
import { groundQuotesV1, groundQuotesV2 } from './ground-quotes';
import { normalizeAmounts } from './normalize-amounts';
import { normalizeDates } from './normalize-dates';
import { parseOutput } from './parse-output';
import { reconcileTotals } from './reconcile-totals';
import type { ExtractionResult, Step, StepContext } from './types';

/** The steps new extractions run, in order. */
export const STEPS: readonly Step[] = [
  parseOutput,
  groundQuotesV2,
  normalizeAmounts,
  normalizeDates,
  reconcileTotals,
];

/** Step versions new extractions no longer run, kept so records made with them still replay. */
const RETIRED: readonly Step[] = [groundQuotesV1];

/** Every step version that ever ran, so any recorded evidence can be replayed. */
const REGISTRY = new Map([...STEPS, ...RETIRED].map((s) => [`${s.name}@${String(s.version)}`, s]));

export interface StepRecord {
  step: string;
  version: number;
  inputSha256: string;
  outputSha256: string;
}

/** Serialized form hashed before and after each step: strings as-is, JSON canonically. */
export function stepBytes(value: unknown): string {
  return typeof value === 'string' ? value : canonicalJson(value);
}

/**
 * Runs the named step versions in order. `hash` is the salted commitment of the result's data
 * key, so the recorded hashes cannot confirm a guessed output once the result is erased.
 */
export function runSteps(
  rawOutput: string,
  context: StepContext,
  hash: (bytes: string) => string,
  steps: readonly { step: string; version: number }[] = STEPS.map((s) => ({
    step: s.name,
    version: s.version,
  })),
): { result: ExtractionResult; records: StepRecord[] } {
  let current: unknown = rawOutput;
  const records: StepRecord[] = [];
  for (const { step, version } of steps) {
    const impl = REGISTRY.get(`${step}@${version}`);
    if (!impl)
      throw unprocessable(
        'unknown_step',
        `post-processing step ${step}@${version} is not available`,
      );
    const inputSha256 = hash(stepBytes(current));
    current = impl.run(current, context);
    records.push({ step, version, inputSha256, outputSha256: hash(stepBytes(current)) });
  }
  return { result: current as ExtractionResult, records };
}
