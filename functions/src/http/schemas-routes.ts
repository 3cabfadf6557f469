/** `/v1/schemas`: the built-in schemas and the tenant's own, and registering a new one. */
import { z } from 'zod';
import { actorLabel } from '../evidence/actor';
import { notFound } from '../errors';
import {
  createCustomSchema,
  CreateSchemaBody,
  getCustomSchema,
  listCustomSchemas,
  type SchemaView,
} from '../extraction/schemas/custom-store';
import { BUILT_IN_SCHEMAS, SCHEMA_NAMES } from '../extraction/schemas/built-in';
import type { ExtractionSchema } from '../extraction/schemas/types';
import { parsedBody } from './body';
import { route } from './route';
import { Schema } from './views';

const DESCRIPTIONS: Record<string, string> = {
  invoice: 'Invoice header, totals and line items, each value with the text it was read from.',
  receipt: 'Receipt merchant, date, totals and items, each value with the text it was read from.',
};

const builtIns: ExtractionSchema[] = Object.values(BUILT_IN_SCHEMAS);

function builtInView(schema: ExtractionSchema): SchemaView {
  return {
    name: schema.name,
    version: schema.version,
    builtIn: true,
    description: DESCRIPTIONS[schema.name] ?? '',
    jsonSchema: schema.jsonSchema,
    createdAt: null,
  };
}

export const schemaRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/schemas',
    // Reading what the tenant extracts with is part of reading its extractions.
    auth: { scope: 'extractions:read' },
    summary: 'Built-in and custom extraction schemas',
    ok: [
      {
        status: 200,
        schema: z.strictObject({ data: z.array(Schema) }),
        description: 'All schemas',
      },
    ],
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
    summary: 'Read one schema',
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
    method: 'POST',
    pattern: '/v1/schemas',
    auth: { scope: 'schemas:write' },
    body: parsedBody(CreateSchemaBody),
    summary: 'Register a custom schema (OpenAI strict / Anthropic tool-input subset)',
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
];
