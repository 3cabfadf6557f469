/**
 * The tenant's own extraction schemas, stored in its `schemas` collection: registering one
 * (refused unless it stays within the JSON Schema subset of `json-schema-subset.ts`), reading
 * them back, and turning one into the schema the pipeline runs.
 */
import { z } from 'zod';
import { conflict, notFound, unprocessable } from '../../errors';
import { COMMIT_TIME, isAlreadyExists, type TenantDb } from '../../tenancy/firestore';
import { CUSTOM_STEPS } from '../postprocess/registry';
import {
  checkSchemaSubset,
  providerSchema,
  restoreOrder,
  validateValue,
  type JsonSchema,
} from './json-schema-subset';
import type { ExtractionSchema } from './types';

export const SCHEMA_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

export const CreateSchemaBody = z.strictObject({
  name: z
    .string()
    .regex(SCHEMA_NAME, 'lowercase letters, digits, _ or -, starting with a letter, at most 64'),
  description: z.string().max(500).optional(),
  jsonSchema: z.record(z.string(), z.unknown()),
});
export type CreateSchemaBody = z.infer<typeof CreateSchemaBody>;

export interface SchemaView {
  name: string;
  version: number;
  builtIn: boolean;
  description: string;
  jsonSchema: JsonSchema;
  createdAt: string | null;
}

/**
 * A custom schema as the pipeline uses it: the model answers the schema as given (less our
 * `format` annotations, see `providerSchema`), and the built-in steps its field types allow
 * ground and normalize the answer. Records made before those steps ran for custom schemas
 * name parse-output@1 alone, and replay runs exactly that.
 */
export function customExtractionSchema(name: string, jsonSchema: JsonSchema): ExtractionSchema {
  // What parse-output makes of the answer: the object as the schema describes it, and (like
  // built-in results) a list of issues; the later steps add `fields` and issues.
  const modelOutput = z
    .unknown()
    .superRefine((value, ctx) => {
      for (const problem of validateValue(value, jsonSchema)) {
        ctx.addIssue({ code: 'custom', message: `${problem.path}: ${problem.message}` });
      }
    })
    .transform((data) => ({ data, issues: [] as never[] }));
  return {
    name,
    version: 1,
    modelOutput,
    jsonSchema: providerSchema(jsonSchema),
    tenantSchema: jsonSchema,
    amountFields: [],
    dateFields: [],
    kind: 'custom',
    steps: CUSTOM_STEPS.map((s) => ({ step: s.name, version: s.version })),
  };
}

export function customSchemaView(name: string, data: Record<string, unknown>): SchemaView {
  return {
    name,
    version: 1,
    builtIn: false,
    description: typeof data.description === 'string' ? data.description : '',
    jsonSchema: restoreOrder(data.jsonSchema) as JsonSchema,
    createdAt: typeof data.createdAt === 'string' ? data.createdAt : null,
  };
}

export async function createCustomSchema(
  db: TenantDb,
  body: CreateSchemaBody,
  createdBy: string,
  builtInNames: readonly string[],
): Promise<SchemaView> {
  if (builtInNames.includes(body.name)) {
    throw conflict('schema_exists', `${body.name} is a built-in schema`);
  }
  const problems = checkSchemaSubset(body.jsonSchema);
  if (problems.length > 0) {
    throw unprocessable(
      'unsupported_schema',
      `the JSON Schema uses ${String(problems.length)} unsupported construct(s)`,
      problems,
    );
  }
  try {
    await db.create('schemas', body.name, {
      name: body.name,
      description: body.description ?? '',
      jsonSchema: body.jsonSchema,
      tenantId: db.tenantId,
      createdBy,
      createdAt: COMMIT_TIME,
    });
  } catch (err) {
    if (isAlreadyExists(err)) throw conflict('schema_exists', `schema ${body.name} already exists`);
    throw err;
  }
  const stored = await db.get('schemas', body.name);
  if (!stored) throw notFound('schema');
  return customSchemaView(body.name, stored);
}

export async function getCustomSchema(db: TenantDb, name: string): Promise<SchemaView | undefined> {
  if (!SCHEMA_NAME.test(name)) return undefined;
  const data = await db.get('schemas', name);
  return data ? customSchemaView(name, data) : undefined;
}

export async function listCustomSchemas(db: TenantDb): Promise<SchemaView[]> {
  const docs = await db.list('schemas', { orderBy: [['name', 'asc']], limit: 1000 });
  return docs.map((d) => customSchemaView(d.id, d.data));
}
