/**
 * `/v1/schemas`: the built-in schemas and the tenant's own, each version immutable and readable
 * for as long as evidence may name it; registering a schema and changing one (a new version).
 * `/v1/content/...`: what an evidence record names by hash, answered with the content: a schema
 * version by `schemaSha256`, a system prompt's text by `systemPromptSha256`.
 */
import { z } from 'zod';
import { actorLabel } from '../evidence/actor';
import { notFound } from '../errors';
import { getPromptText } from '../extraction/prompt-store';
import {
  BUILT_IN_SCHEMAS,
  BUILT_IN_VERSIONS,
  builtInBySha256,
  getBuiltInVersion,
  SCHEMA_NAMES,
} from '../extraction/schemas/built-in';
import {
  createCustomSchema,
  createCustomSchemaVersion,
  CreateSchemaBody,
  CreateSchemaVersionBody,
  findCustomSchemaBySha256,
  getCustomSchema,
  getCustomSchemaVersion,
  listCustomSchemas,
  listCustomSchemaVersions,
  SCHEMA_VERSION,
  type SchemaView,
} from '../extraction/schemas/custom-store';
import { SHA256_HEX } from '../extraction/schemas/definition';
import type { ExtractionSchema } from '../extraction/schemas/types';
import { parsedBody } from './body';
import { route } from './route';
import { Prompt, Schema } from './views';

const builtIns: ExtractionSchema[] = Object.values(BUILT_IN_SCHEMAS);

function builtInView(schema: ExtractionSchema): SchemaView {
  return {
    name: schema.name,
    version: schema.version,
    sha256: schema.sha256,
    builtIn: true,
    description: schema.description,
    jsonSchema: schema.jsonSchema,
    createdAt: null,
  };
}

const isBuiltIn = (name: string) => SCHEMA_NAMES.includes(name);
const SchemaList = z.strictObject({ data: z.array(Schema) });

export const schemaRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/schemas',
    // Reading what the tenant extracts with is part of reading its extractions.
    auth: { scope: 'extractions:read' },
    summary: 'Built-in and custom extraction schemas, each at its latest version',
    ok: [{ status: 200, schema: SchemaList, description: 'All schemas' }],
    errors: [],
    handle: async ({ services, tenant }) => {
      const custom = await listCustomSchemas(services.platform.tenantDb(tenant));
      return { status: 200, body: { data: [...builtIns.map(builtInView), ...custom] } };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/schemas/:name',
    auth: { scope: 'extractions:read' },
    summary: 'Read the latest version of one schema',
    ok: [{ status: 200, schema: Schema, description: 'The schema' }],
    errors: [404],
    handle: async ({ services, tenant, params: { name } }) => {
      const builtIn = builtIns.find((s) => s.name === name);
      if (builtIn) return { status: 200, body: builtInView(builtIn) };
      const custom = await getCustomSchema(services.platform.tenantDb(tenant), name);
      if (!custom) throw notFound('schema');
      return { status: 200, body: custom };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/schemas/:name/versions',
    auth: { scope: 'extractions:read' },
    summary: 'Every version of one schema, oldest first',
    ok: [{ status: 200, schema: SchemaList, description: 'The versions' }],
    errors: [404],
    handle: async ({ services, tenant, params: { name } }) => {
      if (isBuiltIn(name)) {
        return { status: 200, body: { data: (BUILT_IN_VERSIONS[name] ?? []).map(builtInView) } };
      }
      const versions = await listCustomSchemaVersions(services.platform.tenantDb(tenant), name);
      if (!versions) throw notFound('schema');
      return { status: 200, body: { data: versions } };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/schemas/:name/versions/:version',
    auth: { scope: 'extractions:read' },
    summary: 'Read one version of a schema, as evidence records name it (schema, schemaVersion)',
    ok: [{ status: 200, schema: Schema, description: 'The version' }],
    errors: [404],
    handle: async ({ services, tenant, params: { name, version } }) => {
      if (!SCHEMA_VERSION.test(version)) throw notFound('schema version');
      const n = Number(version);
      if (isBuiltIn(name)) {
        const builtIn = getBuiltInVersion(name, n);
        if (!builtIn) throw notFound('schema version');
        return { status: 200, body: builtInView(builtIn) };
      }
      const custom = await getCustomSchemaVersion(services.platform.tenantDb(tenant), name, n);
      if (!custom) throw notFound('schema version');
      return { status: 200, body: custom };
    },
  }),

  route({
    method: 'POST',
    pattern: '/v1/schemas',
    auth: { scope: 'schemas:write' },
    body: parsedBody(CreateSchemaBody),
    summary: 'Register a custom schema (OpenAI strict / Anthropic tool-input subset) as version 1',
    ok: [{ status: 201, schema: Schema, description: 'Registered' }],
    errors: [400, 409, 422],
    handle: async ({ services, tenant, actor, body }) => {
      const view = await createCustomSchema(
        services.platform.tenantDb(tenant),
        body,
        actorLabel(actor),
        SCHEMA_NAMES,
      );
      return { status: 201, body: view, headers: { Location: `/v1/schemas/${view.name}` } };
    },
  }),

  route({
    method: 'POST',
    pattern: '/v1/schemas/:name/versions',
    auth: { scope: 'schemas:write' },
    body: parsedBody(CreateSchemaVersionBody),
    summary:
      'Change a custom schema: the next version (what is left out stays as it was); earlier versions stay as they were',
    ok: [
      { status: 201, schema: Schema, description: 'The new version' },
      { status: 200, schema: Schema, description: 'Nothing changed: the latest version' },
    ],
    errors: [400, 404, 409, 422],
    handle: async ({ services, tenant, actor, body, params: { name } }) => {
      const { view, created } = await createCustomSchemaVersion(
        services.platform.tenantDb(tenant),
        name,
        body,
        actorLabel(actor),
        SCHEMA_NAMES,
      );
      const location = `/v1/schemas/${view.name}/versions/${String(view.version)}`;
      return { status: created ? 201 : 200, body: view, headers: { Location: location } };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/content/schemas/:hash',
    auth: { scope: 'extractions:read' },
    summary: 'The schema version an evidence record names by its schemaSha256',
    ok: [{ status: 200, schema: Schema, description: 'The version' }],
    errors: [404],
    handle: async ({ services, tenant, params: { hash } }) => {
      if (!SHA256_HEX.test(hash)) throw notFound('schema version');
      const builtIn = builtInBySha256(hash);
      if (builtIn) return { status: 200, body: builtInView(builtIn) };
      const custom = await findCustomSchemaBySha256(services.platform.tenantDb(tenant), hash);
      if (!custom) throw notFound('schema version');
      return { status: 200, body: custom };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/content/prompts/:hash',
    auth: { scope: 'extractions:read' },
    summary: 'The system prompt text an evidence record names by its systemPromptSha256',
    ok: [{ status: 200, schema: Prompt, description: 'The prompt' }],
    errors: [404],
    handle: async ({ services, tenant, params: { hash } }) => {
      const prompt = await getPromptText(services.platform.tenantDb(tenant), hash);
      if (!prompt) throw notFound('prompt');
      return { status: 200, body: prompt };
    },
  }),
];
