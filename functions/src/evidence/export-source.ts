/**
 * Where an audit export is read from. The verifier, receipts and the auditor CLI read through
 * this port; a local folder is one source, the audit bucket (`storage/bucket-source.ts`) another.
 */
import { readdir, readFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';

/** Where the export is read from; paths are relative to the export root, '/'-separated. */
export interface ExportSource {
  list(): Promise<string[]>;
  read(path: string): Promise<Buffer>;
}

/** An export copied to a local folder (e.g. `gcloud storage cp -r gs://bucket/prefix dir`). */
export function directorySource(dir: string): ExportSource {
  const root = resolve(dir);
  return {
    async list() {
      const entries = await readdir(root, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => relative(root, resolve(e.parentPath, e.name)).split(sep).join('/'))
        .sort();
    },
    async read(path: string) {
      const full = resolve(root, path);
      // Never read outside the export, whatever path a caller passes.
      if (!full.startsWith(root + sep)) throw new Error(`${path} is outside the export`);
      return readFile(full);
    },
  };
}
