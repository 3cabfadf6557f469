/**
 * Issue 9, finding 2: "the schema the model saw is not in the evidence". From the customer's
 * side, over HTTP against the local stack: a custom schema is registered and used, then edited;
 * the edit is a new version, the evidence of each extraction names the version and the SHA-256
 * of the schema's canonical form, the old extraction still replays byte for byte, and the
 * schema and the system prompt an evidence record names can be read back by their hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import { canonicalSha256 } from '../../functions/src/evidence/canonical';
import { contentPath } from '../../functions/src/evidence/content';
import { ExtractionEvidenceRecordSchema } from '../../functions/src/evidence/record';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import {
  callApi,
  eventually,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';

interface SchemaBody {
  name: string;
  version: number;
  sha256: string;
  builtIn: boolean;
  description: string;
  jsonSchema: Record<string, unknown>;
}

let services: Services;
let tenant: TenantProfile;
let key: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  const onboarded = await onboardTenant(services, {
    tenantId: `schemav-${randomBytes(4).toString('hex')}`,
    name: 'Schema versions',
  });
  tenant = onboarded.tenant;
  key = onboarded.apiKey.token;
}, 60_000);

afterAll(async () => {
  await services.close();
});

const name = `po-${randomBytes(3).toString('hex')}`;
const v1Schema = {
  type: 'object',
  properties: {
    supplier: { type: 'string', description: 'Labels: Supplier' },
    units: { type: 'integer', description: 'Labels: Units' },
  },
  required: ['supplier', 'units'],
  additionalProperties: false,
};
// Only a field description changes: an instruction to the model, so part of "which prompt".
const v2Schema = {
  ...v1Schema,
  properties: {
    ...v1Schema.properties,
    supplier: { type: 'string', description: 'Labels: Supplier, Vendor, Seller' },
  },
};
const DOCUMENT = withCanary(
  ['Purchase order 7', 'Supplier: Contoso Metals', 'Units: 12'].join('\n'),
);

async function submit(schema: string): Promise<string> {
  const reply = await callApi('/v1/extractions', {
    method: 'POST',
    key,
    body: { document: { contentType: 'text/plain', text: DOCUMENT }, schema },
  });
  expect(reply.status).toBe(202);
  return (reply.body as { id: string }).id;
}

async function evidenceOf(done: ExtractionBody) {
  expect(done.status).toBe('succeeded');
  const reply = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key });
  expect(reply.status).toBe(200);
  return ExtractionEvidenceRecordSchema.parse(reply.body);
}

describe('finding 2: the schema the model saw is in the evidence, by version and hash', () => {
  let v1: SchemaBody;
  let first: ExtractionBody;

  it('registers version 1 with the SHA-256 of its canonical form', async () => {
    const reply = await callApi('/v1/schemas', {
      method: 'POST',
      key,
      body: { name, description: 'Purchase orders', jsonSchema: v1Schema },
    });
    expect(reply.status).toBe(201);
    v1 = reply.body as SchemaBody;
    expect(v1).toMatchObject({ name, version: 1, builtIn: false, jsonSchema: v1Schema });
    expect(v1.sha256).toBe(
      canonicalSha256({
        kind: 'custom',
        name,
        version: 1,
        description: 'Purchase orders',
        jsonSchema: v1Schema,
      }),
    );
  });

  it('names the schema, its version and its hash in the evidence of an extraction', async () => {
    first = await waitForTerminal(await submit(name), key);
    const record = await evidenceOf(first);
    expect(record.output).toMatchObject({
      schema: name,
      schemaVersion: 1,
      schemaSha256: v1.sha256,
    });
  }, 60_000);

  it('makes an edit a new version; version 1 stays readable as it was', async () => {
    const edited = await callApi(`/v1/schemas/${name}/versions`, {
      method: 'POST',
      key,
      body: { jsonSchema: v2Schema },
    });
    expect(edited.status).toBe(201);
    expect(edited.headers.get('location')).toBe(`/v1/schemas/${name}/versions/2`);
    const v2 = edited.body as SchemaBody;
    expect(v2).toMatchObject({ name, version: 2, description: 'Purchase orders' });
    expect(v2.sha256).not.toBe(v1.sha256);

    const latest = await callApi(`/v1/schemas/${name}`, { key });
    expect(latest.body).toMatchObject({ version: 2, sha256: v2.sha256, jsonSchema: v2Schema });
    const old = await callApi(`/v1/schemas/${name}/versions/1`, { key });
    expect(old.status).toBe(200);
    expect(old.body).toEqual(v1);
    const list = await callApi(`/v1/schemas/${name}/versions`, { key });
    expect((list.body as { data: SchemaBody[] }).data.map((s) => [s.version, s.sha256])).toEqual([
      [1, v1.sha256],
      [2, v2.sha256],
    ]);
    const missing = await callApi(`/v1/schemas/${name}/versions/3`, { key });
    expect(missing.status).toBe(404);
  });

  it('still replays the extraction made with version 1 byte for byte', async () => {
    const report = await replayExtraction(services, tenant, first.id);
    expect(report).toMatchObject({
      reproducible: true,
      schema: { name, version: 1, sha256: v1.sha256 },
    });
  }, 60_000);

  it('extracts with version 2 from now on, and says so in the evidence', async () => {
    const latest = (await callApi(`/v1/schemas/${name}`, { key })).body as SchemaBody;
    const record = await evidenceOf(await waitForTerminal(await submit(name), key));
    expect(record.output).toMatchObject({
      schema: name,
      schemaVersion: 2,
      schemaSha256: latest.sha256,
    });
  }, 60_000);

  it('pins the version at acceptance: an edit made while an extraction waits does not reach it', async () => {
    const pinned = (await callApi(`/v1/schemas/${name}`, { key })).body as SchemaBody;
    const id = await submit(name);
    // Edited right after the 202: whenever the worker picks the extraction up, it was accepted
    // with `pinned.version` and must run exactly that.
    const edited = await callApi(`/v1/schemas/${name}/versions`, {
      method: 'POST',
      key,
      body: { description: `Purchase orders, edit ${randomBytes(2).toString('hex')}` },
    });
    expect(edited.status).toBe(201);
    const record = await evidenceOf(await waitForTerminal(id, key));
    expect(record.output).toMatchObject({
      schemaVersion: pinned.version,
      schemaSha256: pinned.sha256,
    });
  }, 60_000);

  it('answers "which prompt" with the text: prompt and schema by the hashes in the evidence', async () => {
    const record = await evidenceOf(first);
    const prompt = await callApi(`/v1/content/prompts/${record.model.systemPromptSha256}`, {
      key,
    });
    expect(prompt.status).toBe(200);
    const { text } = prompt.body as { text: string; sha256: string };
    expect(createHash('sha256').update(text).digest('hex')).toBe(record.model.systemPromptSha256);
    expect(prompt.body).toMatchObject({ sha256: record.model.systemPromptSha256 });

    const schema = await callApi(`/v1/content/schemas/${record.output.schemaSha256 ?? ''}`, {
      key,
    });
    expect(schema.status).toBe(200);
    expect(schema.body).toEqual(v1);
  });

  it('exports the prompt and the schema beside the sealed records, named by their hashes', async () => {
    const record = await evidenceOf(first);
    const { AUDIT_BUCKET, AUDIT_EXPORT_PREFIX } = services.config;
    for (const hash of [record.model.systemPromptSha256, record.output.schemaSha256 ?? '']) {
      const name = contentPath(AUDIT_EXPORT_PREFIX, tenant.id, hash);
      // The sealer runs on its own schedule: wait for the seal that exports this record.
      const bytes = await eventually(
        async () =>
          (await services.objects.exists(AUDIT_BUCKET, name))
            ? await services.objects.get(AUDIT_BUCKET, name)
            : undefined,
        60_000,
      );
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(hash);
    }
    const schema = JSON.parse(
      (
        await services.objects.get(
          AUDIT_BUCKET,
          contentPath(AUDIT_EXPORT_PREFIX, tenant.id, record.output.schemaSha256 ?? ''),
        )
      ).toString('utf8'),
    ) as unknown;
    expect(schema).toEqual({
      kind: 'custom',
      name,
      version: 1,
      description: 'Purchase orders',
      jsonSchema: v1Schema,
    });
  }, 90_000);

  it('gives built-in schemas explicit versions and hashes too', async () => {
    const invoice = (await callApi('/v1/schemas/invoice', { key })).body as SchemaBody;
    expect(invoice).toMatchObject({ name: 'invoice', builtIn: true });
    expect(invoice.sha256).toMatch(/^[0-9a-f]{64}$/);
    const pinned = await callApi(`/v1/schemas/invoice/versions/${String(invoice.version)}`, {
      key,
    });
    expect(pinned.body).toEqual(invoice);
    const byHash = await callApi(`/v1/content/schemas/${invoice.sha256}`, { key });
    expect(byHash.body).toEqual(invoice);
  });
});

describe('finding 2: schemas cannot be edited in place or around the subset check', () => {
  it('refuses a new version of a built-in schema', async () => {
    const reply = await callApi('/v1/schemas/invoice/versions', {
      method: 'POST',
      key,
      body: { jsonSchema: v1Schema },
    });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ error: { code: 'built_in_schema' } });
  });

  it('refuses a new version outside the JSON Schema subset, and keeps the latest as it was', async () => {
    const before = (await callApi(`/v1/schemas/${name}`, { key })).body as SchemaBody;
    const reply = await callApi(`/v1/schemas/${name}/versions`, {
      method: 'POST',
      key,
      body: {
        jsonSchema: { ...v1Schema, properties: { supplier: { type: 'string', pattern: '^x' } } },
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ error: { code: 'unsupported_schema' } });
    expect((await callApi(`/v1/schemas/${name}`, { key })).body).toEqual(before);
  });

  it('answers 404 for a version of a schema that was never registered', async () => {
    const reply = await callApi('/v1/schemas/never_registered/versions', {
      method: 'POST',
      key,
      body: { jsonSchema: v1Schema },
    });
    expect(reply.status).toBe(404);
  });

  it('answers 404 for a hash nobody recorded', async () => {
    const unknown = '0'.repeat(64);
    expect((await callApi(`/v1/content/schemas/${unknown}`, { key })).status).toBe(404);
    expect((await callApi(`/v1/content/prompts/${unknown}`, { key })).status).toBe(404);
  });
});
