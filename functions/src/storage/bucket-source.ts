import type { ExportSource } from '../evidence/export-source';
import type { ObjectStore } from './object-store';

/**
 * An export read straight from the audit bucket: `gs://bucket/prefix`. Paths are relative to
 * the prefix (`{tenant}/{yyyy}/{mm}/{dd}/{seq}.jsonl`), as the verifier expects; `under`
 * lists only one tenant's folder without changing that.
 */
export function bucketSource(
  objects: ObjectStore,
  bucket: string,
  prefix: string,
  options: { under?: string } = {},
): ExportSource {
  const root = prefix.replace(/^\/+|\/+$/g, '');
  const base = root ? `${root}/` : '';
  const listed = options.under ? `${base}${options.under.replace(/^\/+|\/+$/g, '')}/` : base;
  return {
    async list() {
      return (await objects.list(bucket, listed)).map((name) => name.slice(base.length));
    },
    read(path) {
      return objects.get(bucket, `${base}${path}`);
    },
  };
}
