/**
 * The canonical form of one schema version: what the evidence's `schemaSha256` is the SHA-256
 * of (RFC 8785 canonical JSON, `evidence/canonical.ts`), for built-in and custom schemas alike.
 * It holds everything about the schema that reaches the model or shapes the result: the JSON
 * Schema (field descriptions are instructions to the model), the name (the system prompt names
 * it) and the version, so a hash names exactly one version of one schema.
 */
import { canonicalSha256 } from '../../evidence/canonical';

export interface SchemaDefinition {
  kind: 'builtIn' | 'custom';
  name: string;
  version: number;
  description: string;
  /**
   * Built-in: the JSON Schema the providers are sent. Custom: the schema as the tenant
   * registered it, with its `format` annotations (what the providers are sent is derived from
   * it by `providerSchema`). Canonical JSON sorts keys; property order is carried by
   * `required`, from which `restoreOrder` rebuilds it.
   */
  jsonSchema: Record<string, unknown>;
}

export function schemaSha256(definition: SchemaDefinition): string {
  const { kind, name, version, description, jsonSchema } = definition;
  return canonicalSha256({ kind, name, version, description, jsonSchema });
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
