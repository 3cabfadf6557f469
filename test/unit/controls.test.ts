/**
 * Issue 15, docs/controls.yaml: each control maps to SOC 2 criteria, code, tests, a policy and
 * an evidence query. A reference that no longer resolves (a renamed file, a reworded test, a
 * removed CLI option or route) fails here, so the mapping an auditor reads cannot drift from
 * the code. The checks themselves are shown to fail on a bad entry of each kind.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { z } from 'zod';
import { buildProgram } from '../../functions/src/cli/program';
import type { CliIo } from '../../functions/src/cli/io';
import { createApiRouter } from '../../functions/src/http/api';
import { createOpsRouter } from '../../functions/src/http/ops';
import type { Services } from '../../functions/src/services';

const root = path.resolve(__dirname, '..', '..');
const CONTROLS_FILE = 'docs/controls.yaml';

/** SOC 2 Trust Services Criteria ids (2017 TSC): CC1–CC9, A1, C1, PI1, P1–P8. */
const Criterion = z
  .string()
  .regex(/^(CC[1-9]\.[1-9]|A1\.[1-3]|C1\.[1-2]|PI1\.[1-5]|P[1-8]\.[1-6])$/);
const RepoPath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !p.split('/').includes('..'), 'a path inside the repo');

const EvidenceQuery = z.union([
  z.strictObject({ cli: z.string().startsWith('npx provenant '), shows: z.string().min(1) }),
  z.strictObject({
    http: z.string().regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/),
    function: z.enum(['api', 'ops']),
    shows: z.string().min(1),
  }),
]);

const Control = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: z.string().min(1),
  description: z.string().min(1),
  criteria: z.array(Criterion).min(1),
  policies: z.array(RepoPath.refine((p) => p.startsWith('docs/policies/'))).min(1),
  implementation: z.array(RepoPath).min(1),
  tests: z.array(z.strictObject({ file: RepoPath, name: z.string().min(1) })).min(1),
  evidence: z.array(EvidenceQuery).min(1),
});

const ControlsSchema = z.strictObject({
  version: z.literal(1),
  controls: z.array(Control).min(1),
});
type Controls = z.infer<typeof ControlsSchema>;

/** What the references are checked against: the repository, the CLI and the routes. */
interface World {
  exists(file: string): boolean;
  read(file: string): string;
  /** `audit verify` → its long options. */
  commands: Map<string, Set<string>>;
  /** `api GET /v1/evidence/:id`. */
  routes: Set<string>;
}

function cliCommands(): Map<string, Set<string>> {
  const io: CliIo = {
    out: () => undefined,
    err: () => undefined,
    progress: () => undefined,
    services: () => {
      throw new Error('no services while listing commands');
    },
    confirm: () => Promise.resolve(undefined),
  };
  const out = new Map<string, Set<string>>();
  const walk = (command: Command, prefix: string[]) => {
    for (const sub of command.commands) {
      const name = [...prefix, sub.name()];
      // Only leaves run something; a group alone is not an evidence query.
      if (sub.commands.length === 0)
        out.set(
          name.join(' '),
          new Set(sub.options.flatMap((o) => (o.long === undefined ? [] : [o.long]))),
        );
      walk(sub, name);
    }
  };
  walk(buildProgram(io), []);
  return out;
}

function declaredRoutes(): Set<string> {
  // Registering routes touches no service; handlers are never called here.
  const fns = {
    api: createApiRouter({} as Services).list(),
    ops: createOpsRouter({} as Services).list(),
  };
  return new Set(
    Object.entries(fns).flatMap(([fn, routes]) =>
      routes.map((r) => `${fn} ${r.method} ${r.pattern}`),
    ),
  );
}

const realWorld = (): World => ({
  exists: (file) => existsSync(path.join(root, file)),
  read: (file) => readFileSync(path.join(root, file), 'utf8'),
  commands: cliCommands(),
  routes: declaredRoutes(),
});

/** Parses the YAML text with the schema; a shape error names its path. */
function parseControls(text: string): Controls {
  return ControlsSchema.parse(parse(text));
}

/** The dangling references of a CLI evidence query: its command and each long option. */
function cliProblems(line: string, commands: World['commands']): string[] {
  const words = line.split(/\s+/).slice(2);
  let matched: string | undefined;
  for (let n = words.length; n > 0 && matched === undefined; n--) {
    const candidate = words.slice(0, n).join(' ');
    if (commands.has(candidate)) matched = candidate;
  }
  if (matched === undefined) return [`"${line}" names no provenant subcommand`];
  const options = commands.get(matched) ?? new Set<string>();
  return words
    .filter((w) => w.startsWith('--'))
    .map((w) => w.split('=')[0] ?? w)
    .filter((flag) => !options.has(flag))
    .map((flag) => `"${line}": provenant ${matched} has no option ${flag}`);
}

/** Every reference of the document that does not resolve, one line each. */
function controlProblems(doc: Controls, world: World): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const control of doc.controls) {
    const at = `${control.id}:`;
    if (ids.has(control.id)) problems.push(`${at} duplicate control id`);
    ids.add(control.id);
    for (const file of [...control.policies, ...control.implementation])
      if (!world.exists(file)) problems.push(`${at} ${file} does not exist`);
    for (const test of control.tests) {
      if (!world.exists(test.file)) {
        problems.push(`${at} test file ${test.file} does not exist`);
        continue;
      }
      if (!/\.test\.ts$/.test(test.file)) problems.push(`${at} ${test.file} is not a test file`);
      else if (!world.read(test.file).includes(test.name))
        problems.push(`${at} ${test.file} has no test named "${test.name}"`);
    }
    for (const query of control.evidence) {
      if ('cli' in query) {
        problems.push(...cliProblems(query.cli, world.commands).map((p) => `${at} ${p}`));
      } else {
        const route = `${query.function} ${query.http.replace(/\{([A-Za-z]+)\}/g, ':$1')}`;
        // Parameter names may differ ({id} for :keyId); compare the shapes.
        const shape = (r: string) => r.replace(/:[A-Za-z]+/g, ':_');
        if (![...world.routes].some((r) => shape(r) === shape(route)))
          problems.push(`${at} ${query.function} serves no route ${query.http}`);
      }
    }
  }
  return problems;
}

const committed = readFileSync(path.join(root, CONTROLS_FILE), 'utf8');

/** The committed document with `edit` applied to its first control (a deep copy). */
function withFirstControl(edit: (control: Controls['controls'][number]) => void): Controls {
  const doc = parseControls(committed);
  const first = doc.controls[0];
  if (!first) throw new Error('no control');
  edit(first);
  return doc;
}

describe('docs/controls.yaml', () => {
  const world = realWorld();

  it('parses, and every file, test name, policy, CLI command, option and route it names exists', () => {
    const doc = parseControls(committed);
    expect(controlProblems(doc, world)).toEqual([]);
  });

  it('covers the controls issue 15 names', () => {
    const ids = parseControls(committed).controls.map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'tenant-isolation',
        'evidence-tuple',
        'evidence-sealing',
        'trust-roots',
        'tenant-keys',
        'break-glass',
        'subprocessor-gate',
        'change-management',
        'provider-configuration',
        'retention',
        'incident-alerting',
      ]),
    );
  });

  it('the checker knows the real CLI and routes (a silent checker proves nothing)', () => {
    expect(world.commands.get('audit verify')).toEqual(expect.any(Set));
    expect(world.commands.get('audit verify')?.has('--public-key')).toBe(true);
    expect(world.commands.has('config record')).toBe(true);
    expect(world.commands.has('access-review')).toBe(true);
    expect(world.routes.has('api GET /v1/evidence/:id')).toBe(true);
    expect(world.routes.has('ops POST /v1/tenants')).toBe(true);
  });

  describe('fails on a dangling reference', () => {
    it('a missing implementation file or policy', () => {
      const doc = withFirstControl((c) => {
        c.implementation.push('functions/src/tenancy/gone.ts');
        c.policies.push('docs/policies/no-such-policy.md');
      });
      expect(controlProblems(doc, world)).toEqual([
        'tenant-isolation: docs/policies/no-such-policy.md does not exist',
        'tenant-isolation: functions/src/tenancy/gone.ts does not exist',
      ]);
    });

    it('a test name its file does not hold, and a test file that does not exist', () => {
      const doc = withFirstControl((c) => {
        c.tests.push({ file: 'test/e2e/tenancy-attacks.test.ts', name: 'a test nobody wrote' });
        c.tests.push({ file: 'test/e2e/gone.test.ts', name: 'anything' });
      });
      expect(controlProblems(doc, world)).toEqual([
        'tenant-isolation: test/e2e/tenancy-attacks.test.ts has no test named "a test nobody wrote"',
        'tenant-isolation: test file test/e2e/gone.test.ts does not exist',
      ]);
    });

    it('a CLI subcommand that does not exist, and an option the command lacks', () => {
      const doc = withFirstControl((c) => {
        c.evidence = [
          { cli: 'npx provenant audit verify-everything gs://B', shows: 'x' },
          { cli: 'npx provenant audit verify gs://B --tenant T --trust-me', shows: 'x' },
        ];
      });
      expect(controlProblems(doc, world)).toEqual([
        'tenant-isolation: "npx provenant audit verify-everything gs://B" names no provenant subcommand',
        'tenant-isolation: "npx provenant audit verify gs://B --tenant T --trust-me": provenant audit verify has no option --trust-me',
      ]);
    });

    it('a route no function serves, or served by the other function', () => {
      const doc = withFirstControl((c) => {
        c.evidence = [
          { http: 'GET /v1/evidence/{id}/everything', function: 'api', shows: 'x' },
          { http: 'POST /v1/tenants', function: 'api', shows: 'x' },
        ];
      });
      expect(controlProblems(doc, world)).toEqual([
        'tenant-isolation: api serves no route GET /v1/evidence/{id}/everything',
        'tenant-isolation: api serves no route POST /v1/tenants',
      ]);
    });

    it('a malformed entry: an unknown criterion, a policy outside docs/policies, an unknown field', () => {
      const bad = committed
        .replace('criteria: [CC6.1, CC6.3, C1.1]', 'criteria: [CC6.1, SOC9.9]')
        .replace(
          'policies: [docs/policies/encryption-and-keys.md]',
          'policies: [docs/architecture.md]',
        )
        .replace('  - id: retention\n', '  - id: retention\n    owner: nobody\n');
      const result = ControlsSchema.safeParse(parse(bad));
      expect(result.success).toBe(false);
      const paths = (result.error?.issues ?? []).map((i) => i.path.join('.'));
      expect(paths).toEqual(
        expect.arrayContaining([
          'controls.0.criteria.1',
          expect.stringMatching(/^controls\.\d+\.policies\.0$/),
          expect.stringMatching(/^controls\.\d+$/),
        ]),
      );
    });
  });
});
