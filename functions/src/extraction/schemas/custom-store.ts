/**
 * The tenant's own extraction schemas. Every version is immutable and kept: registering a
 * schema writes version 1, a change writes the next version (each refused unless it stays
 * within the JSON Schema subset of `json-schema-subset.ts`), and the extraction evidence names
 * the version and the SHA-256 of its canonical form (`definition.ts`), so an old extraction
 * replays with exactly the schema its model saw.
 *
 * Storage: `schemaVersions/{name}-v{n}` holds version n, create-only; `schemas/{name}` is a copy
 * of the latest version, replaced in the transaction that creates the next one, so the list of
 * schemas costs one read each. Only the server writes either (firestore.rules). A schema
 * written before versions existed is a `schemas/{name}` without `version`: it reads as version
 * 1, and its first change stores that version 1 under `schemaVersions` before version 2.
 */
import { z } from 'zod';
import { canonicalJson } from '../../evidence/canonical';
import { conflict, notFound, unprocessable } from '../../errors';
import {
  COMMIT_TIME,
  isAlreadyExists,
  isoToTimestamp,
  type DocData,
  type TenantDb,
} from '../../tenancy/firestore';
import { CUSTOM_STEPS } from '../postprocess/registry';
import { schemaSha256 } from './definition';
import {
  checkSchemaSubset,
  providerSchema,
  restoreOrder,
  validateValue,
  type JsonSchema,
} from './json-schema-subset';
import type { ExtractionSchema } from './types';

export const SCHEMA_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
/** How a version is written in a path: 1 to 999999999, no leading zero. */
export const SCHEMA_VERSION = /^[1-9][0-9]{0,8}$/;

const Description = z.string().max(500);
const JsonSchemaBody = z.record(z.string(), z.unknown());

export const CreateSchemaBody = z.strictObject({
  name: z
    .string()
    .regex(SCHEMA_NAME, 'lowercase letters, digits, _ or -, starting with a letter, at most 64'),
  description: Description.optional(),
  jsonSchema: JsonSchemaBody,
});
export type CreateSchemaBody = z.infer<typeof CreateSchemaBody>;

/** A change: what is left out stays as in the latest version. */
export const CreateSchemaVersionBody = z
  .strictObject({ description: Description.optional(), jsonSchema: JsonSchemaBody.optional() })
  .refine((b) => b.description !== undefined || b.jsonSchema !== undefined, {
    message: 'give a description, a jsonSchema or both',
  });
export type CreateSchemaVersionBody = z.infer<typeof CreateSchemaVersionBody>;

export interface SchemaView {
  name: string;
  version: number;
  /** SHA-256 of the version's canonical form, as evidence records name it. */
  sha256: string;
  builtIn: boolean;
  description: string;
  jsonSchema: JsonSchema;
  /** When this version was created. */
  createdAt: string | null;
}

/** The document id of version `version` of `name` (names never contain `-v` + digits last). */
export function schemaVersionId(name: string, version: number): string {
  return `${name}-v${String(version)}`;
}

/**
 * A custom schema as the pipeline uses it: the model answers the schema as given (less our
 * `format` annotations, see `providerSchema`), and the built-in steps its field types allow
 * ground and normalize the answer. Records made before those steps ran for custom schemas
 * name parse-output@1 alone, and replay runs exactly that.
 */
export function customExtractionSchema(
  name: string,
  jsonSchema: JsonSchema,
  { version = 1, description = '' }: { version?: number; description?: string } = {},
): ExtractionSchema {
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
    version,
    description,
    sha256: schemaSha256({ kind: 'custom', name, version, description, jsonSchema }),
    modelOutput,
    jsonSchema: providerSchema(jsonSchema),
    tenantSchema: jsonSchema,
    amountFields: [],
    dateFields: [],
    kind: 'custom',
    steps: CUSTOM_STEPS.map((s) => ({ step: s.name, version: s.version })),
  };
}

/** The pipeline's schema for a stored version. */
export function customExtractionSchemaOf(view: SchemaView): ExtractionSchema {
  return customExtractionSchema(view.name, view.jsonSchema, view);
}

/** A stored version (or a schema stored before versions, which is version 1). */
export function customSchemaView(name: string, data: DocData): SchemaView {
  const version = typeof data.version === 'number' ? data.version : 1;
  const description = typeof data.description === 'string' ? data.description : '';
  const jsonSchema = restoreOrder(data.jsonSchema) as JsonSchema;
  return {
    name,
    version,
    sha256:
      typeof data.sha256 === 'string'
        ? data.sha256
        : schemaSha256({ kind: 'custom', name, version, description, jsonSchema }),
    builtIn: false,
    description,
    jsonSchema,
    createdAt: typeof data.createdAt === 'string' ? data.createdAt : null,
  };
}

function refuseOutsideSubset(jsonSchema: unknown): void {
  const problems = checkSchemaSubset(jsonSchema);
  if (problems.length > 0) {
    throw unprocessable(
      'unsupported_schema',
      `the JSON Schema uses ${String(problems.length)} unsupported construct(s)`,
      problems,
    );
  }
}

/** The stored document of one version; `createdAt` is the commit time of its write. */
function versionDoc(
  db: TenantDb,
  content: { name: string; version: number; description: string; jsonSchema: JsonSchema },
  createdBy: string,
  createdAt: unknown = COMMIT_TIME,
): DocData {
  const { name, version, description, jsonSchema } = content;
  const sha256 = schemaSha256({ kind: 'custom', name, version, description, jsonSchema });
  return {
    name,
    version,
    description,
    jsonSchema,
    sha256,
    tenantId: db.tenantId,
    createdBy,
    createdAt,
  };
}

async function readVersion(db: TenantDb, name: string, version: number): Promise<SchemaView> {
  const stored = await db.get('schemaVersions', schemaVersionId(name, version));
  if (!stored) throw notFound('schema');
  return customSchemaView(name, stored);
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
  refuseOutsideSubset(body.jsonSchema);
  const doc = versionDoc(
    db,
    {
      name: body.name,
      version: 1,
      description: body.description ?? '',
      jsonSchema: body.jsonSchema,
    },
    createdBy,
  );
  try {
    await db.runTransaction((tx) => {
      tx.create('schemas', body.name, doc);
      tx.create('schemaVersions', schemaVersionId(body.name, 1), doc);
      return Promise.resolve();
    });
  } catch (err) {
    if (isAlreadyExists(err)) throw conflict('schema_exists', `schema ${body.name} already exists`);
    throw err;
  }
  return readVersion(db, body.name, 1);
}

/**
 * A change to a custom schema: the next version, unless nothing changed (then the latest
 * version, `created: false`). Built-in schemas change only with a release of the service.
 */
export async function createCustomSchemaVersion(
  db: TenantDb,
  name: string,
  body: CreateSchemaVersionBody,
  createdBy: string,
  builtInNames: readonly string[],
): Promise<{ view: SchemaView; created: boolean }> {
  if (builtInNames.includes(name)) {
    throw conflict(
      'built_in_schema',
      `${name} is a built-in schema: its versions ship with the service`,
    );
  }
  if (!SCHEMA_NAME.test(name)) throw notFound('schema');
  if (body.jsonSchema !== undefined) refuseOutsideSubset(body.jsonSchema);
  const outcome = await db.runTransaction(async (tx) => {
    const head = await tx.get('schemas', name);
    if (!head) throw notFound('schema');
    const latest = customSchemaView(name, head);
    const content = {
      name,
      version: latest.version + 1,
      description: body.description ?? latest.description,
      jsonSchema: body.jsonSchema ?? latest.jsonSchema,
    };
    const same = (a: { description: string; jsonSchema: JsonSchema }) =>
      canonicalJson([a.description, a.jsonSchema]);
    if (same(content) === same(latest)) return { version: latest.version, created: false };
    if (typeof head.version !== 'number') {
      // Stored before versions: keep it as version 1, with its author and time.
      tx.create(
        'schemaVersions',
        schemaVersionId(name, 1),
        versionDoc(
          db,
          { ...latest, version: 1 },
          typeof head.createdBy === 'string' ? head.createdBy : 'unknown',
          latest.createdAt === null ? COMMIT_TIME : isoToTimestamp(latest.createdAt),
        ),
      );
    }
    const doc = versionDoc(db, content, createdBy);
    tx.create('schemaVersions', schemaVersionId(name, content.version), doc);
    tx.update('schemas', name, doc);
    return { version: content.version, created: true };
  });
  return { view: await readVersion(db, name, outcome.version), created: outcome.created };
}

/** The latest version of a custom schema. */
export async function getCustomSchema(db: TenantDb, name: string): Promise<SchemaView | undefined> {
  if (!SCHEMA_NAME.test(name)) return undefined;
  const data = await db.get('schemas', name);
  return data ? customSchemaView(name, data) : undefined;
}

/** One version of a custom schema, whatever came after it. */
export async function getCustomSchemaVersion(
  db: TenantDb,
  name: string,
  version: number,
): Promise<SchemaView | undefined> {
  if (!SCHEMA_NAME.test(name) || !Number.isSafeInteger(version) || version < 1) return undefined;
  const stored = await db.get('schemaVersions', schemaVersionId(name, version));
  if (stored) return customSchemaView(name, stored);
  if (version !== 1) return undefined;
  const head = await db.get('schemas', name);
  return head && typeof head.version !== 'number' ? customSchemaView(name, head) : undefined;
}

/** Every version of a custom schema, oldest first; undefined when there is no such schema. */
export async function listCustomSchemaVersions(
  db: TenantDb,
  name: string,
): Promise<SchemaView[] | undefined> {
  const latest = await getCustomSchema(db, name);
  if (!latest) return undefined;
  const docs = await db.list('schemaVersions', {
    where: [['name', '==', name]],
    limit: 1000,
  });
  const views = docs.map((d) => customSchemaView(name, d.data));
  // Equality and order on two fields would need a composite index: ordered here instead.
  views.sort((a, b) => a.version - b.version);
  return views.length > 0 ? views : [latest];
}

/** The custom schema version whose canonical form hashes to `sha256`. */
export async function findCustomSchemaBySha256(
  db: TenantDb,
  sha256: string,
): Promise<SchemaView | undefined> {
  const [found] = await db.list('schemaVersions', { where: [['sha256', '==', sha256]], limit: 1 });
  return found ? customSchemaView(String(found.data.name), found.data) : undefined;
}

export async function listCustomSchemas(db: TenantDb): Promise<SchemaView[]> {
  const docs = await db.list('schemas', { orderBy: [['name', 'asc']], limit: 1000 });
  return docs.map((d) => customSchemaView(d.id, d.data));
}
