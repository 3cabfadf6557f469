/**
 * The sub-processor gate as CI runs it (`provenant subprocessors check`), over a copy of the
 * registry with one change: a vendor announced too late, a host the code calls that no entry
 * lists, a vendor retired while the code still calls it. The code's hosts are the real ones.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../functions/src/cli/program';
import { codeHosts, GOOGLE_CLIENT_HOSTS } from '../../functions/src/cli/subprocessors-hosts';
import { checkRegistry, type GateFinding } from '../../functions/src/subprocessors/gate';
import {
  addDays,
  dayOf,
  defaultRegistryDir,
  SubprocessorRegistry,
  type Subprocessor,
} from '../../functions/src/subprocessors/registry';
import { captureCli } from '../support/cli';
import { entry } from '../support/subprocessors';

const today = dayOf(new Date());

/** A copy of the repository's registry, changed by `edit`. */
function registryCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sp-registry-'));
  cpSync(defaultRegistryDir(), dir, { recursive: true });
  edit(dir);
  return dir;
}

function editEntry(dir: string, id: string, change: (e: Subprocessor) => Subprocessor): void {
  const file = path.join(dir, `${id}.yaml`);
  writeFileSync(file, stringify(change(parse(readFileSync(file, 'utf8')) as Subprocessor)));
}

async function check(dir: string): Promise<{ code: number; findings: GateFinding[] }> {
  const io = captureCli();
  const code = await runCli(['subprocessors', 'check', '--registry', dir, '--json'], io);
  if (io.lines.length === 0) throw new Error(io.errors.join('\n'));
  const report = JSON.parse(io.lines.join('\n')) as { findings: GateFinding[] };
  return { code, findings: report.findings };
}

/** A new OCR vendor announced today, taking effect `days` later. */
const newVendor = (days: number) => (dir: string) => {
  writeFileSync(
    path.join(dir, 'ocr-co.yaml'),
    stringify(
      entry({
        id: 'ocr-co',
        hosts: ['api.ocr-co.example'],
        announced: today,
        effective: addDays(today, days),
      }),
    ),
  );
};

describe('subprocessors check (the CI gate)', () => {
  it('passes on the registry as committed: it agrees with the code', async () => {
    expect(await check(defaultRegistryDir())).toEqual({ code: 0, findings: [] });
  });

  it('a 10-day notice fails', async () => {
    const { code, findings } = await check(registryCopy(newVendor(10)));
    expect(code).toBe(2);
    expect(findings).toEqual([
      {
        rule: 'notice_period',
        id: 'ocr-co',
        message: `ocr-co takes effect on ${addDays(today, 10)}, before ${addDays(today, 30)}: announced on ${today}, it needs 30 days' notice`,
      },
    ]);
  });

  it('a 30-day notice passes', async () => {
    expect(await check(registryCopy(newVendor(30)))).toEqual({ code: 0, findings: [] });
  });

  it('the notice period is configurable: 30 days fail a 45-day policy', async () => {
    const io = captureCli();
    const dir = registryCopy(newVendor(30));
    const code = await runCli(
      ['subprocessors', 'check', '--registry', dir, '--notice-days', '45'],
      io,
    );
    expect(code).toBe(2);
    expect(io.lines.join('\n')).toMatch(/notice_period: ocr-co .* needs 45 days' notice/);
  });

  it('an unregistered host used in code fails', async () => {
    const dir = registryCopy((d) => {
      rmSync(path.join(d, 'anthropic.yaml'));
    });
    const { code, findings } = await check(dir);
    expect(code).toBe(2);
    expect(findings).toEqual([
      {
        rule: 'unregistered_host',
        id: null,
        message:
          'the code calls api.anthropic.com (providers/registry.ts (anthropic)), which no sub-processor lists',
      },
    ]);
  });

  it('a retired vendor still called fails', async () => {
    const dir = registryCopy((d) => {
      editEntry(d, 'anthropic', ({ grandfathered: _, ...e }) => ({
        ...e,
        status: 'retired',
        announced: addDays(today, -40),
        effective: addDays(today, -10),
        reason: 'replaced by another provider',
      }));
    });
    const { code, findings } = await check(dir);
    expect(code).toBe(2);
    expect(findings).toEqual([
      {
        rule: 'host_not_in_force',
        id: 'anthropic',
        message: `the code calls api.anthropic.com (providers/registry.ts (anthropic)), but anthropic is not in force on ${today} (status retired, effective ${addDays(today, -10)})`,
      },
    ]);
  });

  it('a vendor announced but not yet in force cannot be called either', async () => {
    const dir = registryCopy((d) => {
      editEntry(d, 'anthropic', ({ grandfathered: _, ...e }) => ({
        ...e,
        announced: today,
        effective: addDays(today, 30),
      }));
    });
    const { findings } = await check(dir);
    expect(findings.map((f) => [f.rule, f.id])).toEqual([['host_not_in_force', 'anthropic']]);
  });

  it('refuses a registry that does not parse, naming the file and field', async () => {
    const dir = registryCopy((d) => {
      editEntry(d, 'openai', (e) => ({ ...e, effective: 'soon' }));
    });
    const io = captureCli();
    expect(await runCli(['subprocessors', 'check', '--registry', dir], io)).toBe(1);
    expect(io.errors.join('\n')).toMatch(/openai\.yaml: effective: a date as YYYY-MM-DD/);
  });
});

describe('checkRegistry rules', () => {
  const hosts = [{ host: 'api.vendor.example', usedBy: 'x.ts', subprocessor: 'vendor' }];
  const rules = (entries: Subprocessor[], code = hosts) =>
    checkRegistry({
      registry: new SubprocessorRegistry(entries),
      codeHosts: code,
      today: '2027-06-01',
      noticeDays: 30,
    }).map((f) => f.rule);

  it('passes an active, used vendor announced 30 days ahead', () => {
    expect(rules([entry()])).toEqual([]);
  });

  it('grandfathering covers only vendors in force before the registry existed', () => {
    expect(
      rules([entry({ announced: '2027-05-01', effective: '2027-05-02', grandfathered: 'old' })]),
    ).toEqual(['grandfathered_after_registry']);
    // Backdated to before the registry, a vendor it never listed still cannot claim it.
    expect(
      rules([entry({ announced: '2026-01-01', effective: '2026-01-01', grandfathered: 'old' })]),
    ).toEqual(['grandfathered_after_registry']);
    expect(rules([entry({ announced: '2027-05-01', effective: '2027-05-02' })])).toEqual([
      'notice_period',
    ]);
  });

  it('refuses a blank purpose and a blank DPA reference', () => {
    expect(
      rules([entry({ purpose: ' ', dpa: { reference: '', signedOn: '2026-01-01' } })]),
    ).toEqual(['missing_purpose', 'missing_dpa_reference']);
  });

  it('refuses an active vendor the code never calls', () => {
    expect(rules([entry()], [])).toEqual(['active_entry_unused']);
  });

  it('refuses a host checked at runtime under another id than its entry', () => {
    expect(
      rules([entry()], [{ host: 'api.vendor.example', usedBy: 'x.ts', subprocessor: 'other' }]),
    ).toEqual(['runtime_id_mismatch']);
  });
});

describe('the code hosts the gate checks', () => {
  it('name each LLM provider under its own id', () => {
    expect(codeHosts().filter((h) => h.subprocessor !== undefined)).toEqual([
      { host: 'api.openai.com', usedBy: 'providers/registry.ts (openai)', subprocessor: 'openai' },
      {
        host: 'api.anthropic.com',
        usedBy: 'providers/registry.ts (anthropic)',
        subprocessor: 'anthropic',
      },
    ]);
  });

  it.each([
    ['@google-cloud/kms', 'KeyManagementServiceClient'],
    ['@google-cloud/pubsub', 'PublisherClient'],
    ['@google-cloud/firestore', 'FirestoreClient'],
  ])('include the default host of %s', (pkg, client) => {
    // The generated clients declare their service's host as a static `servicePath`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(pkg) as Record<string, unknown> & { v1: Record<string, unknown> };
    const cls = (mod[client] ?? mod.v1[client]) as { servicePath: string };
    expect(GOOGLE_CLIENT_HOSTS.map((h) => h.host)).toContain(cls.servicePath);
  });
});
