import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { PROVIDERS } from '../../functions/src/config';
import { diffRegistries } from '../../functions/src/subprocessors/diff';
import { registryAt, registryHistory } from '../../functions/src/subprocessors/git';
import {
  defaultRegistryDir,
  loadRegistry,
  parseRegistry,
  SubprocessorNotActiveError,
  SubprocessorRegistry,
  SubprocessorRegistryError,
  type Subprocessor,
} from '../../functions/src/subprocessors/registry';
import { entry } from '../support/subprocessors';

describe('sub-processor registry (subprocessors/*.yaml)', () => {
  const registry = loadRegistry(defaultRegistryDir());

  it('loads one entry per file, named by its id', () => {
    expect(registry.entries.map((e) => e.id)).toEqual([
      'amazon-ses',
      'anthropic',
      'google-cloud',
      'openai',
    ]);
  });

  it.each(PROVIDERS)('lists the LLM provider %s the code can call, for model calls', (name) => {
    expect(registry.get(name)?.engagedFor).toBe('model-calls');
  });

  it('refuses a file whose id is not its name, naming the file', () => {
    const text = stringify(entry({ id: 'other' }));
    expect(() => parseRegistry([{ name: 'vendor.yaml', text }])).toThrow(
      /vendor\.yaml: id other must be the file's name/,
    );
  });

  it('refuses an unknown field, a bad date and a bad status, each named', () => {
    const bad = { ...entry(), effective: '2026-02-30', status: 'live', colour: 'red' };
    let error: unknown;
    try {
      parseRegistry([{ name: 'vendor.yaml', text: stringify(bad) }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SubprocessorRegistryError);
    const problems = (error as SubprocessorRegistryError).problems.map((p) => p.problem).join('\n');
    expect(problems).toMatch(/effective: a calendar date that exists/);
    expect(problems).toMatch(/status:/);
    expect(problems).toMatch(/colour/);
  });

  it('refuses one host claimed by two vendors', () => {
    const files = [entry(), entry({ id: 'twin' })].map((e) => ({
      name: `${e.id}.yaml`,
      text: stringify(e),
    }));
    expect(() => parseRegistry(files)).toThrow(/host api\.vendor\.example is also vendor's/);
  });
});

describe('activeOn: which vendors the code may call on a day', () => {
  const at = (status: Subprocessor['status']) =>
    new SubprocessorRegistry([entry({ status, effective: '2026-03-01' })]);

  it('an active vendor is in force from its effective day, not before', () => {
    expect(at('active').activeOn('2026-02-28')).toEqual([]);
    expect(
      at('active')
        .activeOn('2026-03-01')
        .map((e) => e.id),
    ).toEqual(['vendor']);
  });

  it('a retiring vendor is in force until the day before its effective day', () => {
    expect(
      at('retiring')
        .activeOn('2026-02-28')
        .map((e) => e.id),
    ).toEqual(['vendor']);
    expect(at('retiring').activeOn('2026-03-01')).toEqual([]);
  });

  it.each(['proposed', 'retired'] as const)('a %s vendor is never in force', (status) => {
    expect(at(status).activeOn('2027-01-01')).toEqual([]);
  });

  it('assertActive refuses a retired or unregistered vendor with a typed error', () => {
    const day = new Date('2026-06-01T12:00:00Z');
    expect(() => at('retired').assertActive('vendor', day)).toThrow(SubprocessorNotActiveError);
    expect(() => at('active').assertActive('nobody', day)).toThrow(
      'sub-processor nobody is not active on 2026-06-01 (not in the registry)',
    );
    expect(at('active').assertActive('vendor', day).id).toBe('vendor');
  });
});

describe('diffRegistries', () => {
  const a = new SubprocessorRegistry([entry(), entry({ id: 'gone', hosts: ['gone.example'] })]);
  const b = new SubprocessorRegistry([
    entry({ status: 'retiring', announced: '2026-05-01', effective: '2026-06-01' }),
    entry({ id: 'new', hosts: ['new.example'] }),
  ]);

  it('names each added, removed and changed entry and the fields that changed', () => {
    const { changes } = diffRegistries(a, b);
    expect(changes.map(({ id, kind }) => ({ id, kind }))).toEqual([
      { id: 'gone', kind: 'removed' },
      { id: 'new', kind: 'added' },
      { id: 'vendor', kind: 'changed' },
    ]);
    const changed = changes[2];
    expect(changed?.fields).toEqual(['announced', 'effective', 'status']);
    expect(changed?.before?.status).toBe('active');
    expect(changed?.after?.status).toBe('retiring');
  });

  it('finds nothing between equal registries, whatever the key order', () => {
    const reordered = Object.fromEntries(Object.entries(entry()).reverse()) as Subprocessor;
    expect(
      diffRegistries(
        a,
        new SubprocessorRegistry([reordered, ...a.entries.filter((e) => e.id === 'gone')]),
      ),
    ).toEqual({
      changes: [],
    });
  });

  it('reads the registry at two git refs and diffs them', () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'sp-git-'));
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 'T');
    execFileSync('mkdir', [path.join(repo, 'subprocessors')]);
    writeFileSync(path.join(repo, 'subprocessors', 'vendor.yaml'), stringify(entry()));
    git('add', '.');
    git('commit', '-q', '-m', 'add vendor');
    const changed = entry({ locations: ['EU', 'US'], reason: 'US region for failover' });
    writeFileSync(path.join(repo, 'subprocessors', 'vendor.yaml'), stringify(changed));
    git('commit', '-q', '-am', 'vendor processes in the US too');

    const { changes } = diffRegistries(registryAt(repo, 'HEAD~1'), registryAt(repo, 'HEAD'));
    expect(changes).toEqual([
      {
        id: 'vendor',
        kind: 'changed',
        fields: ['locations', 'reason'],
        before: entry(),
        after: changed,
      },
    ]);
    expect(registryHistory(repo).map((c) => c.subject)).toEqual([
      'vendor processes in the US too',
      'add vendor',
    ]);
    expect(() => registryAt(repo, 'no-such-ref')).toThrow(/git rev-parse failed/);
  });
});
