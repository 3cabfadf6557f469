import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { PROVIDERS } from '../../functions/src/config';

const Registry = z.strictObject({
  subprocessors: z.array(
    z.strictObject({
      id: z.string().regex(/^[a-z0-9-]+$/),
      name: z.string().min(1),
      purpose: z.string().min(1),
      dataCategories: z.array(z.string()).min(1),
      locations: z.array(z.string()).min(1),
      since: z.union([z.string(), z.date()]),
    }),
  ),
});

describe('sub-processor registry', () => {
  const registry = Registry.parse(
    parse(readFileSync(path.join(__dirname, '../../subprocessors/registry.yaml'), 'utf8')),
  );
  const ids = registry.subprocessors.map((s) => s.id);

  it('has unique ids', () => {
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(PROVIDERS)('lists the LLM provider %s that the code can call', (provider) => {
    expect(ids).toContain(provider);
  });
});
