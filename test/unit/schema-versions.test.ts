/**
 * Issue 9, finding 2: every schema version has a canonical form and its SHA-256, which the
 * evidence records. Released versions never change: the hashes of the built-in versions are
 * pinned here, so an edit of a released built-in schema (its wording included) fails until it
 * ships as a new version with the old one kept.
 */
import { canonicalSha256 } from '../../functions/src/evidence/canonical';
import {
  BUILT_IN_SCHEMAS,
  BUILT_IN_VERSIONS,
  builtInBySha256,
  getBuiltInVersion,
} from '../../functions/src/extraction/schemas/built-in';
import {
  customExtractionSchema,
  customSchemaView,
  CreateSchemaVersionBody,
  schemaVersionId,
} from '../../functions/src/extraction/schemas/custom-store';
import { schemaSha256 } from '../../functions/src/extraction/schemas/definition';

/** The hash of every released built-in version, as evidence records name them. */
const RELEASED: Record<string, Record<number, string>> = {
  invoice: { 1: 'a9a0ed0de81831d2b6030ceb7cf2489cf32fca338bb71cee509d7383d4757037' },
  receipt: { 1: '59e9c495768ecc92790fe15d35cbe139dcd3d6a0d3fac41d309ec7837f8681a8' },
};

const contract = {
  type: 'object',
  properties: {
    party: { type: 'string', description: 'Who signs' },
    total: { type: 'string', format: 'amount' },
  },
  required: ['party', 'total'],
  additionalProperties: false,
};

describe('built-in schema versions', () => {
  it('never change once released: each version hashes as pinned', () => {
    const actual = Object.fromEntries(
      Object.entries(BUILT_IN_VERSIONS).map(([name, versions]) => [
        name,
        Object.fromEntries(versions.map((v) => [v.version, v.sha256])),
      ]),
    );
    expect(actual).toEqual(RELEASED);
  });

  it('hash the canonical form of what the providers are sent', () => {
    const invoice = BUILT_IN_SCHEMAS.invoice;
    expect(invoice.sha256).toBe(
      canonicalSha256({
        kind: 'builtIn',
        name: 'invoice',
        version: invoice.version,
        description: invoice.description,
        jsonSchema: invoice.jsonSchema,
      }),
    );
  });

  it('resolve by version and by hash, and nothing else', () => {
    const invoice = BUILT_IN_SCHEMAS.invoice;
    expect(getBuiltInVersion('invoice', invoice.version)).toBe(invoice);
    expect(getBuiltInVersion('invoice', invoice.version + 1)).toBeUndefined();
    expect(getBuiltInVersion('toString', 1)).toBeUndefined();
    expect(builtInBySha256(BUILT_IN_SCHEMAS.receipt.sha256)).toBe(BUILT_IN_SCHEMAS.receipt);
    expect(builtInBySha256('0'.repeat(64))).toBeUndefined();
  });
});

describe('the canonical form of a custom schema version', () => {
  const hash = (jsonSchema: Record<string, unknown>, version = 1, description = 'Contracts') =>
    schemaSha256({ kind: 'custom', name: 'contract', version, description, jsonSchema });

  it('changes when a field description changes: descriptions are instructions to the model', () => {
    const edited = {
      ...contract,
      properties: { ...contract.properties, party: { type: 'string', description: 'Buyer' } },
    };
    expect(hash(edited)).not.toBe(hash(contract));
  });

  it('changes with the version, the description and the property order (`required`)', () => {
    expect(hash(contract, 2)).not.toBe(hash(contract));
    expect(hash(contract, 1, 'Other')).not.toBe(hash(contract));
    expect(hash({ ...contract, required: ['total', 'party'] })).not.toBe(hash(contract));
  });

  it('does not depend on the order keys are stored in (Firestore maps have none)', () => {
    const reordered = {
      additionalProperties: false,
      required: ['party', 'total'],
      properties: { total: contract.properties.total, party: contract.properties.party },
      type: 'object',
    };
    expect(hash(reordered)).toBe(hash(contract));
  });

  it('is what the pipeline runs and what a stored version reads back as', () => {
    const schema = customExtractionSchema('contract', contract, {
      version: 3,
      description: 'Contracts',
    });
    expect(schema).toMatchObject({ version: 3, sha256: hash(contract, 3) });
    const stored = customSchemaView('contract', {
      name: 'contract',
      version: 3,
      description: 'Contracts',
      jsonSchema: contract,
      sha256: hash(contract, 3),
    });
    expect(stored).toMatchObject({ version: 3, sha256: schema.sha256, builtIn: false });
  });

  it('reads a schema stored before versions as version 1, hashed on read', () => {
    const legacy = customSchemaView('contract', {
      name: 'contract',
      description: 'Contracts',
      jsonSchema: contract,
      tenantId: 't',
      createdBy: 'someone',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(legacy).toMatchObject({ version: 1, sha256: hash(contract) });
  });

  it('names each version in its own document', () => {
    expect(schemaVersionId('contract', 1)).toBe('contract-v1');
    // A name ending like a version suffix still maps to one id per (name, version).
    expect(schemaVersionId('a-v1', 2)).not.toBe(schemaVersionId('a', 12));
  });
});

describe('a change to a custom schema', () => {
  it('must say what changes', () => {
    expect(CreateSchemaVersionBody.safeParse({}).success).toBe(false);
    expect(CreateSchemaVersionBody.safeParse({ description: 'x' }).success).toBe(true);
    expect(CreateSchemaVersionBody.safeParse({ jsonSchema: contract }).success).toBe(true);
    expect(CreateSchemaVersionBody.safeParse({ name: 'other', description: 'x' }).success).toBe(
      false,
    );
  });
});
