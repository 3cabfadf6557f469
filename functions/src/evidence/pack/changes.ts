/**
 * The control change log: every change, inside the audit period, of what decides an
 * extraction's output, dated by the first record that shows it, so a mid-period change is on
 * the page rather than found by the auditor. Two sources:
 * - consecutive extraction records of the same schema: the model (provider, model, version),
 *   the system prompt (its SHA-256 and template version), the schema (version and hash) and
 *   the post-processing steps (name@version, in order);
 * - `configuration` event records (the platform's log): each component hash in their details
 *   (rules, prompts, schemas, steps, sub-processors, Terraform, ...) compared with the previous
 *   configuration record; a component that differs is one line.
 * Records before the period set the baseline and are not reported themselves.
 */
import { inPeriod, type PackRecord, type Period } from './log';

/**
 * `model`, `prompt`, `schema` or `post_processing` for an extraction change; the details key
 * (`rules`, `terraform`, ...) for a configuration change.
 */
export type ChangeComponent = string;

export interface ControlChange {
  at: string;
  /** The record that first shows the new value. */
  recordId: string;
  tenantId: string;
  source: 'extraction' | 'configuration';
  component: ChangeComponent;
  /** The schema name for an extraction change; `platform` for a configuration change. */
  scope: string;
  /** null when the scope is first seen in the period (no earlier value to compare with). */
  from: string | null;
  to: string;
}

const str = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : '';
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The controls one extraction record names, as comparable strings. */
export function extractionControls(body: Record<string, unknown>): Record<string, string> {
  const model = obj(body.model);
  const output = obj(body.output);
  const steps = Array.isArray(body.postProcessing) ? body.postProcessing : [];
  return {
    model: `${str(model.provider)}/${str(model.model)} (${str(model.modelVersion)})`,
    prompt: `${str(model.systemPromptSha256)} (template ${str(model.promptTemplateVersion)})`,
    schema: `v${str(output.schemaVersion)}${output.schemaSha256 === undefined ? '' : ` ${str(output.schemaSha256)}`}`,
    post_processing: steps
      .map((s) => {
        const step = obj(s);
        return `${str(step.step)}@${str(step.version)}`;
      })
      .join(', '),
  };
}

/**
 * The component hashes of a configuration record (lifecycle/configuration.ts): the details
 * keys that name a component by its path (`rules/firestore.rules`, `prompt/invoice`,
 * `terraform/...`). The record's own bookkeeping (`sha256`, `seq`, `previousSha256`,
 * `changed`, `trigger`) changes with every record and is no control.
 */
export function configurationControls(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(body.details))) {
    if (k.includes('/') && typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Changes in the period, in log order (by createdAt, then record id). */
export function controlChanges(records: readonly PackRecord[], period: Period): ControlChange[] {
  const sorted = [...records].sort((a, b) =>
    a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? -1 : 1) : a.id < b.id ? -1 : 1,
  );
  const seen = new Map<string, Record<string, string>>();
  const changes: ControlChange[] = [];
  for (const r of sorted) {
    const source: ControlChange['source'] | null =
      r.kind === 'extraction' ? 'extraction' : r.kind === 'configuration' ? 'configuration' : null;
    if (source === null) continue;
    const scope = source === 'extraction' ? str(obj(r.body.output).schema) : 'platform';
    const key = `${source}:${r.tenantId}:${scope}`;
    const controls =
      source === 'extraction' ? extractionControls(r.body) : configurationControls(r.body);
    const before = seen.get(key);
    seen.set(key, { ...before, ...controls });
    if (!inPeriod(period, r.createdAt)) continue;
    const base = { at: r.createdAt, recordId: r.id, tenantId: r.tenantId, source, scope };
    if (before === undefined) {
      // First use of a schema (or the first configuration record) inside the period: what it
      // ran with is stated once, so the auditor sees the starting point.
      for (const [component, to] of Object.entries(controls))
        changes.push({ ...base, component, from: null, to });
      continue;
    }
    for (const [component, to] of Object.entries(controls)) {
      const from = before[component];
      if (from !== to) changes.push({ ...base, component, from: from ?? null, to });
    }
  }
  return changes;
}
