/** `/v1/schemas`: the built-in schemas and the tenant's own, and registering a new one. */
import { actorLabel } from '../evidence/actor';
import { notFound } from '../errors';
import {
  createCustomSchema,
  CreateSchemaBody,
  getCustomSchema,
  listCustomSchemas,
  type SchemaView,
} from '../extraction/custom-schemas';
import { BUILT_IN_SCHEMAS, SCHEMA_NAMES, type ExtractionSchema } from '../extraction/schemas';
import type { Services } from '../services';
import { requireScope } from '../tenancy/api-keys';
import { authenticate } from './auth';
import type { Router } from './router';

const DESCRIPTIONS: Record<string, string> = {
  invoice: 'Invoice header, totals and line items, each value with the text it was read from.',
  receipt: 'Receipt merchant, date, totals and items, each value with the text it was read from.',
};

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

export function registerSchemaRoutes(router: Router, services: Services): void {
  const builtIns: ExtractionSchema[] = Object.values(BUILT_IN_SCHEMAS);

  router.on('GET', '/v1/schemas', async ({ req, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    // Reading what the tenant extracts with is part of reading its extractions.
    requireScope(principal, 'extractions:read');
    const custom = await listCustomSchemas(services.platform.tenantDb(tenant));
    return { status: 200, body: { data: [...builtIns.map(builtInView), ...custom] } };
  });

  router.on('GET', '/v1/schemas/:name', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const name = params.name ?? '';
    const builtIn = builtIns.find((s) => s.name === name);
    if (builtIn) return { status: 200, body: builtInView(builtIn) };
    const custom = await getCustomSchema(services.platform.tenantDb(tenant), name);
    if (!custom) throw notFound('schema');
    return { status: 200, body: custom };
  });

  router.on('POST', '/v1/schemas', async ({ req, requestId }) => {
    const { principal, tenant, actor } = await authenticate(services, req, requestId);
    requireScope(principal, 'schemas:write');
    const body = CreateSchemaBody.parse(req.body);
    const view = await createCustomSchema(
      services.platform.tenantDb(tenant),
      body,
      actorLabel(actor),
      SCHEMA_NAMES,
    );
    return { status: 201, body: view, headers: { Location: `/v1/schemas/${view.name}` } };
  });
}
