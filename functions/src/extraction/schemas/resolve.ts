/** The schema an extraction names, wherever it is defined. */
import type { TenantDb } from '../../tenancy/firestore';
import { getSchema } from './built-in';
import { customExtractionSchema, getCustomSchema } from './custom-store';
import type { ExtractionSchema } from './types';

/**
 * A built-in schema, or the tenant's custom schema of that name (built-in names cannot be
 * registered, so the two never shadow each other).
 */
export async function resolveSchema(
  db: TenantDb,
  name: string,
): Promise<ExtractionSchema | undefined> {
  const builtIn = getSchema(name);
  if (builtIn) return builtIn;
  const custom = await getCustomSchema(db, name);
  return custom ? customExtractionSchema(custom.name, custom.jsonSchema) : undefined;
}
