/** The schema an extraction names, wherever it is defined, at its latest or a given version. */
import type { TenantDb } from '../../tenancy/firestore';
import { getBuiltInVersion, getSchema } from './built-in';
import { customExtractionSchemaOf, getCustomSchema, getCustomSchemaVersion } from './custom-store';
import type { ExtractionSchema } from './types';

/**
 * The latest version of a built-in schema, or of the tenant's custom schema of that name
 * (built-in names cannot be registered, so the two never shadow each other). Only acceptance
 * asks for the latest; the worker and replay ask for the version pinned then.
 */
export async function resolveSchema(
  db: TenantDb,
  name: string,
): Promise<ExtractionSchema | undefined> {
  const builtIn = getSchema(name);
  if (builtIn) return builtIn;
  const custom = await getCustomSchema(db, name);
  return custom ? customExtractionSchemaOf(custom) : undefined;
}

/** Exactly version `version` of the schema, as it was when that version was made. */
export async function resolveSchemaVersion(
  db: TenantDb,
  name: string,
  version: number,
): Promise<ExtractionSchema | undefined> {
  if (getSchema(name)) return getBuiltInVersion(name, version);
  const custom = await getCustomSchemaVersion(db, name, version);
  return custom ? customExtractionSchemaOf(custom) : undefined;
}
