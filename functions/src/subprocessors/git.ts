/**
 * The registry as it was at a git ref, read with `git ls-tree` and `git show` (no checkout, so
 * the working tree is never touched), and the history of the commits that changed it.
 */
import { execFileSync } from 'node:child_process';
import { AppError } from '../errors';
import { diffRegistries, type SubprocessorChange } from './diff';
import { parseRegistry, type RegistryFile, type SubprocessorRegistry } from './registry';

/** The registry folder, relative to the repository root. */
export const REGISTRY_PATH = 'subprocessors';

/** A git command failed: an unknown ref, or not a repository. */
export class GitReadError extends AppError {
  override readonly name = 'GitReadError';
  constructor(message: string) {
    super(400, 'git_read_failed', message);
  }
}

function git(repoDir: string, args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: repoDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const raw = (err as { stderr?: unknown }).stderr;
    const stderr = (typeof raw === 'string' ? raw : '').trim();
    throw new GitReadError(`git ${args[0] ?? ''} failed: ${stderr || (err as Error).message}`);
  }
}

/** The commit `ref` names, refused by name when git does not know it. */
export function resolveRef(repoDir: string, ref: string): string {
  if (ref.startsWith('-')) throw new GitReadError(`invalid git ref: ${ref}`);
  return git(repoDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
}

/**
 * The registry files at `ref`. The single `registry.yaml` that came before the per-file
 * registry had no schema (no DPA, hosts or dates): it is not read, so a ref from before the
 * migration has an empty registry and the migration shows every vendor as added.
 */
export function registryFilesAt(repoDir: string, ref: string): RegistryFile[] {
  const commit = resolveRef(repoDir, ref);
  const names = git(repoDir, ['ls-tree', '--name-only', `${commit}:${REGISTRY_PATH}`])
    .split('\n')
    .filter((n) => n.endsWith('.yaml') && n !== 'registry.yaml');
  return names.map((name) => ({
    name,
    text: git(repoDir, ['show', `${commit}:${REGISTRY_PATH}/${name}`]),
  }));
}

/** The registry at `ref`; a ref without the folder has an empty one. */
export function registryAt(repoDir: string, ref: string): SubprocessorRegistry {
  const commit = resolveRef(repoDir, ref);
  const hasFolder =
    git(repoDir, ['ls-tree', '--name-only', commit, '--', REGISTRY_PATH]).trim() !== '';
  return parseRegistry(hasFolder ? registryFilesAt(repoDir, commit) : []);
}

export interface RegistryCommit {
  commit: string;
  /** Committer date, ISO 8601. */
  date: string;
  subject: string;
  /** The first parent, or null for a root commit. */
  parent: string | null;
}

/** The commits that changed the registry folder, newest first. */
export function registryHistory(repoDir: string, ref = 'HEAD'): RegistryCommit[] {
  const commit = resolveRef(repoDir, ref);
  const out = git(repoDir, ['log', '--format=%H%x09%P%x09%cI%x09%s', commit, '--', REGISTRY_PATH]);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const [hash = '', parents = '', date = '', ...subject] = line.split('\t');
      return {
        commit: hash,
        date,
        subject: subject.join('\t'),
        parent: parents.split(' ')[0] || null,
      };
    });
}

/** One commit that changed the registry, and what it changed. */
export interface ChangelogEntry extends RegistryCommit {
  changes: SubprocessorChange[];
}

/**
 * The registry's history, newest first: each commit that changed `subprocessors/`, diffed
 * against its first parent. Commits that changed no entry (comments, formatting) are left out.
 */
export function registryChangelog(repoDir: string, ref = 'HEAD'): ChangelogEntry[] {
  const entries: ChangelogEntry[] = [];
  for (const c of registryHistory(repoDir, ref)) {
    const before = c.parent ? registryAtParent(repoDir, c.parent) : parseRegistry([]);
    const { changes } = diffRegistries(before, registryAt(repoDir, c.commit));
    if (changes.length > 0) entries.push({ ...c, changes });
  }
  return entries;
}

/** A parent's registry; in a shallow clone the oldest commits' parents are absent: empty. */
function registryAtParent(repoDir: string, parent: string): SubprocessorRegistry {
  try {
    resolveRef(repoDir, parent);
  } catch (err) {
    if (err instanceof GitReadError) return parseRegistry([]);
    throw err;
  }
  return registryAt(repoDir, parent);
}
