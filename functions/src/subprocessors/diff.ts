/**
 * What changed between two registries, as data: the change set `subprocessors diff` prints,
 * the trust page's changelog is built from, and a notice to customers is written from.
 */
import type { Subprocessor, SubprocessorRegistry } from './registry';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface SubprocessorChange {
  id: string;
  kind: ChangeKind;
  /** The top-level fields that differ (every field of the entry when added or removed). */
  fields: string[];
  before?: Subprocessor;
  after?: Subprocessor;
}

export interface ChangeSet {
  changes: SubprocessorChange[];
}

/** Key order never counts as a change: objects compare by their sorted keys. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

function fieldsOf(entry: Subprocessor): string[] {
  return Object.keys(entry).sort();
}

/**
 * The changes from `a` to `b`, sorted by id: entries only in `b` are added, only in `a`
 * removed, in both with a differing field changed (naming every such field). Identical
 * entries are not listed, so two equal registries give no changes.
 */
export function diffRegistries(a: SubprocessorRegistry, b: SubprocessorRegistry): ChangeSet {
  const ids = [...new Set([...a.entries, ...b.entries].map((e) => e.id))].sort();
  const changes: SubprocessorChange[] = [];
  for (const id of ids) {
    const before = a.get(id);
    const after = b.get(id);
    if (!before && after) {
      changes.push({ id, kind: 'added', fields: fieldsOf(after), after });
    } else if (before && !after) {
      changes.push({ id, kind: 'removed', fields: fieldsOf(before), before });
    } else if (before && after) {
      const keys = [...new Set([...fieldsOf(before), ...fieldsOf(after)])].sort();
      const fields = keys.filter(
        (k) =>
          stable((before as Record<string, unknown>)[k]) !==
          stable((after as Record<string, unknown>)[k]),
      );
      if (fields.length > 0) changes.push({ id, kind: 'changed', fields, before, after });
    }
  }
  return { changes };
}
