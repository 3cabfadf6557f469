/**
 * The configuration fingerprint: one SHA-256 per part of the configuration that decides what the
 * platform does with a document (the Firestore rules, each system prompt, each built-in schema
 * version, the post-processing steps, the sub-processor registry, the Terraform, the configured
 * models), and one over all of them. Recorded as a `configuration` event in the `platform` log
 * at every deploy and every local stack start (`lifecycle/configuration.ts`), so a change shows
 * up in the sealed change log as the component whose hash moved.
 *
 * Pure: the caller reads the files and the registries and passes their bytes here; this module
 * only names and hashes them, so an auditor can recompute a fingerprint from a checkout.
 */
import { canonicalSha256, sha256Hex } from './canonical';

/** What the fingerprint covers, as read by the caller. Paths are relative to the repository. */
export interface FingerprintInputs {
  /** `firestore.rules`, its text. */
  rules: string;
  /** Each built-in schema's system prompt (`extraction/prompt.ts`), by schema name. */
  prompts: Readonly<Record<string, string>>;
  /** Every built-in schema version with its canonical SHA-256 (`schemas/definition.ts`). */
  schemas: readonly { name: string; version: number; sha256: string }[];
  /** The post-processing step lists new extractions run, in order, by list name. */
  steps: Readonly<Record<string, readonly { name: string; version: number }[]>>;
  /** `subprocessors/*.yaml`, by path. */
  subprocessors: Readonly<Record<string, string>>;
  /** `terraform/**\/*.tf`, by path. */
  terraform: Readonly<Record<string, string>>;
  /** The models configured per provider, and the default provider. */
  providers: { defaultProvider: string; models: Readonly<Record<string, string>> };
}

export interface ConfigurationFingerprint {
  /** SHA-256 over the canonical JSON of `components`. */
  sha256: string;
  /** Component name → SHA-256, e.g. `rules/firestore.rules`, `prompt/invoice`, `steps/built-in`. */
  components: Record<string, string>;
}

/** The component names, one prefix per kind, so a diff reads as "which part changed". */
export const COMPONENT_PREFIXES = [
  'rules/',
  'prompt/',
  'schema/',
  'steps/',
  'subprocessors/',
  'terraform/',
  'providers/',
] as const;

/** The fingerprint of `inputs`: same inputs, same object, whatever order they were read in. */
export function computeFingerprint(inputs: FingerprintInputs): ConfigurationFingerprint {
  const components: Record<string, string> = {};
  components['rules/firestore.rules'] = sha256Hex(inputs.rules);
  for (const [name, text] of Object.entries(inputs.prompts))
    components[`prompt/${name}`] = sha256Hex(text);
  for (const schema of inputs.schemas)
    components[`schema/${schema.name}@${String(schema.version)}`] = schema.sha256;
  for (const [list, steps] of Object.entries(inputs.steps))
    components[`steps/${list}`] = canonicalSha256(
      steps.map((s) => ({ name: s.name, version: s.version })),
    );
  for (const [file, text] of Object.entries(inputs.subprocessors))
    components[pathComponent('subprocessors/', file)] = sha256Hex(text);
  for (const [file, text] of Object.entries(inputs.terraform))
    components[pathComponent('terraform/', file)] = sha256Hex(text);
  components['providers/models'] = canonicalSha256({
    defaultProvider: inputs.providers.defaultProvider,
    models: inputs.providers.models,
  });
  const sorted = Object.fromEntries(
    Object.entries(components).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return { sha256: canonicalSha256(sorted), components: sorted };
}

/** `subprocessors/openai.yaml` stays itself; a bare `openai.yaml` gets its folder. */
function pathComponent(prefix: string, file: string): string {
  const normal = file.split('\\').join('/');
  return normal.startsWith(prefix) ? normal : `${prefix}${normal}`;
}

/**
 * The component names whose hash differs between two fingerprints (added, removed or changed),
 * sorted: what a `configuration` record's reader wants to know first.
 */
export function changedComponents(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}
