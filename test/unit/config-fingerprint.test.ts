/**
 * Issue 15, the configuration fingerprint: each part of the configuration is its own component,
 * so a change to one rule file, one prompt, one sub-processor YAML or one Terraform file moves
 * exactly that component's hash (and the overall one), and nothing else.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../functions/src/config';
import {
  changedComponents,
  computeFingerprint,
  type FingerprintInputs,
} from '../../functions/src/evidence/fingerprint';
import { buildSystemPrompt } from '../../functions/src/extraction/prompt';
import { STEPS } from '../../functions/src/extraction/postprocess/registry';
import { BUILT_IN_SCHEMAS } from '../../functions/src/extraction/schemas/built-in';
import { readFingerprintInputs } from '../../functions/src/lifecycle/configuration';

const root = path.resolve(__dirname, '..', '..');

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    GOOGLE_CLOUD_PROJECT: 'fp-test',
    DOCUMENTS_BUCKET: 'fp-test-documents',
    AUDIT_BUCKET: 'fp-test-audit',
    KMS_KEY_RING: 'projects/fp-test/locations/europe-west1/keyRings/provenant',
    OPENAI_API_KEY: 'sk-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    API_KEY_PEPPER: 'p'.repeat(32),
    SEALING_KEY_VERSION:
      'projects/fp-test/locations/europe-west1/keyRings/provenant/cryptoKeys/evidence-sealing/cryptoKeyVersions/1',
    ...extra,
  };
}

const base = (): FingerprintInputs => readFingerprintInputs(root, parseConfig(env()));

/** The components that differ after `change`, and whether the overall hash moved. */
function diff(change: (inputs: FingerprintInputs) => FingerprintInputs) {
  const before = computeFingerprint(base());
  const after = computeFingerprint(change(base()));
  return {
    changed: changedComponents(before.components, after.components),
    overallMoved: before.sha256 !== after.sha256,
  };
}

describe('configuration fingerprint', () => {
  it('covers every part the issue names, read from the checkout', () => {
    const { components, sha256 } = computeFingerprint(base());
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const names = Object.keys(components);
    expect(names).toContain('rules/firestore.rules');
    for (const schema of Object.values(BUILT_IN_SCHEMAS)) {
      expect(components[`prompt/${schema.name}`]).toBe(buildSystemPrompt(schema).systemSha256);
      expect(components[`schema/${schema.name}@${String(schema.version)}`]).toBe(schema.sha256);
    }
    expect(names).toEqual(expect.arrayContaining(['steps/built-in', 'steps/custom']));
    expect(names).toContain('subprocessors/openai.yaml');
    expect(names).toContain('terraform/modules/firestore/rules.tf');
    expect(names).toContain('providers/models');
    expect(names.filter((n) => n.startsWith('terraform/')).every((n) => n.endsWith('.tf'))).toBe(
      true,
    );
  });

  it('is the same for the same inputs whatever order they were read in', () => {
    const inputs = base();
    const reversed: FingerprintInputs = {
      ...inputs,
      terraform: Object.fromEntries(Object.entries(inputs.terraform).reverse()),
      subprocessors: Object.fromEntries(Object.entries(inputs.subprocessors).reverse()),
    };
    expect(computeFingerprint(reversed)).toEqual(computeFingerprint(inputs));
  });

  it('a changed rule changes exactly the rules component', () => {
    expect(diff((i) => ({ ...i, rules: `${i.rules}\n// changed` }))).toEqual({
      changed: ['rules/firestore.rules'],
      overallMoved: true,
    });
  });

  it('a changed prompt changes exactly that prompt component', () => {
    expect(
      diff((i) => ({ ...i, prompts: { ...i.prompts, invoice: `${i.prompts.invoice ?? ''}!` } })),
    ).toEqual({ changed: ['prompt/invoice'], overallMoved: true });
  });

  it('a new step version changes exactly that step list', () => {
    const bumped = STEPS.map((s, n) => ({
      name: s.name,
      version: n === 0 ? s.version + 1 : s.version,
    }));
    expect(diff((i) => ({ ...i, steps: { ...i.steps, 'built-in': bumped } }))).toEqual({
      changed: ['steps/built-in'],
      overallMoved: true,
    });
  });

  it('another configured model changes exactly the providers component', () => {
    const before = computeFingerprint(base());
    const after = computeFingerprint(
      readFingerprintInputs(root, parseConfig(env({ OPENAI_MODEL: 'gpt-4o' }))),
    );
    expect(changedComponents(before.components, after.components)).toEqual(['providers/models']);
  });

  it('a changed sub-processor YAML or Terraform file in a checkout changes exactly that file', () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'provenant-fp-'));
    for (const part of ['firestore.rules', 'subprocessors', 'terraform'])
      cpSync(path.join(root, part), path.join(copy, part), { recursive: true });
    const config = parseConfig(env());
    const before = computeFingerprint(readFingerprintInputs(copy, config));
    expect(before).toEqual(computeFingerprint(base()));

    const yaml = path.join(copy, 'subprocessors', 'anthropic.yaml');
    writeFileSync(yaml, `${readFileSync(yaml, 'utf8')}# reviewed\n`);
    const afterYaml = computeFingerprint(readFingerprintInputs(copy, config));
    expect(changedComponents(before.components, afterYaml.components)).toEqual([
      'subprocessors/anthropic.yaml',
    ]);

    writeFileSync(path.join(copy, 'terraform', 'modules', 'kms', 'extra.tf'), 'locals {}\n');
    const afterTf = computeFingerprint(readFingerprintInputs(copy, config));
    expect(changedComponents(afterYaml.components, afterTf.components)).toEqual([
      'terraform/modules/kms/extra.tf',
    ]);
    expect(new Set([before.sha256, afterYaml.sha256, afterTf.sha256]).size).toBe(3);
  });
});
