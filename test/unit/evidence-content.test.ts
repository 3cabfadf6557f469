/**
 * Issue 9, finding 2: what the model saw is exported beside the records by the SHA-256 of its
 * bytes (`{tenantId}/content/{sha256}`), so an auditor resolves `systemPromptSha256` and
 * `schemaSha256` offline. The verifier accepts such files as part of the layout and refuses one
 * whose bytes do not hash to its name.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canonicalJson } from '../../functions/src/evidence/canonical';
import {
  checkContentFile,
  CONTENT_PATH_RE,
  contentPath,
} from '../../functions/src/evidence/content';
import { directorySource } from '../../functions/src/evidence/export-source';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import { BUILT_IN_SCHEMAS } from '../../functions/src/extraction/schemas/built-in';
import { buildSystemPrompt } from '../../functions/src/extraction/prompt';

const sha = (bytes: string) => createHash('sha256').update(bytes).digest('hex');

describe('content-addressed copies in the audit export', () => {
  const invoice = BUILT_IN_SCHEMAS.invoice;
  const schemaBytes = canonicalJson({
    kind: 'builtIn',
    name: invoice.name,
    version: invoice.version,
    description: invoice.description,
    jsonSchema: invoice.jsonSchema,
  });
  const prompt = buildSystemPrompt(invoice);

  it('names a schema version by the hash the evidence records, and a prompt by its text', () => {
    expect(sha(schemaBytes)).toBe(invoice.sha256);
    expect(sha(prompt.system)).toBe(prompt.systemSha256);
    expect(contentPath('evidence/', 't1', invoice.sha256)).toBe(
      `evidence/t1/content/${invoice.sha256}`,
    );
    expect(CONTENT_PATH_RE.exec(`t1/content/${invoice.sha256}`)?.[1]).toBe('t1');
    expect(CONTENT_PATH_RE.test(`t1/content/${invoice.sha256}.json`)).toBe(false);
  });

  it('accepts bytes that hash to their name and refuses any other', () => {
    expect(checkContentFile(prompt.systemSha256, Buffer.from(prompt.system))).toBeUndefined();
    expect(checkContentFile(prompt.systemSha256, Buffer.from(`${prompt.system} `))).toMatch(
      /hashes to/,
    );
  });

  describe('verifyExport', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'content-'));
      mkdirSync(path.join(dir, 't1', 'content'), { recursive: true });
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const noKey = () => Promise.resolve(undefined);

    it('treats content files as part of the layout, not as strays', async () => {
      writeFileSync(path.join(dir, 't1', 'content', invoice.sha256), schemaBytes);
      writeFileSync(path.join(dir, 't1', 'content', prompt.systemSha256), prompt.system);
      const report = await verifyExport(directorySource(dir), noKey);
      const problems = report.tenants.flatMap((t) => t.problems);
      expect(problems.filter((p) => p.path?.includes('/content/'))).toEqual([]);
    });

    it('reports a content file whose bytes were changed', async () => {
      // A field description edited after the fact: the instruction the model saw is not this.
      const tampered = schemaBytes.replace('Labels: Tax, VAT, GST.', 'Labels: Tax.');
      expect(tampered).not.toBe(schemaBytes);
      writeFileSync(path.join(dir, 't1', 'content', invoice.sha256), tampered);
      const report = await verifyExport(directorySource(dir), noKey);
      expect(report.ok).toBe(false);
      expect(report.tenants.flatMap((t) => t.problems)).toContainEqual(
        expect.objectContaining({
          tenantId: 't1',
          kind: 'content_hash',
          path: `t1/content/${invoice.sha256}`,
        }),
      );
    });
  });
});
