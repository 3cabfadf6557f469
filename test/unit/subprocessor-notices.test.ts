/**
 * Sub-processor notices as data: a notice is built from the registry diff and named by its
 * change set's hash, its objection window closes on the earliest effective day, the mail says
 * only what the registry says publicly, and the relay it goes through is itself held to the
 * registry (by the mailer before each message, by the gate at CI).
 */
import { ConfigError, parseConfig } from '../../functions/src/config';
import { codeHosts, NOTICE_RELAY_HOST } from '../../functions/src/cli/subprocessors-hosts';
import { diffRegistries } from '../../functions/src/subprocessors/diff';
import { checkRegistry } from '../../functions/src/subprocessors/gate';
import {
  buildNotice,
  changeSetSha256,
  objectionWindowOpen,
  renderConfirmationMail,
  renderNoticeMail,
} from '../../functions/src/subprocessors/notices';
import {
  defaultRegistryDir,
  loadRegistry,
  SubprocessorRegistry,
} from '../../functions/src/subprocessors/registry';
import { relayRefusal } from '../../functions/src/webhooks/mailer';
import { recipientSha256 } from '../../functions/src/webhooks/subprocessor-notices';
import { entry } from '../support/subprocessors';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** Fields a notice must never carry: not part of what customers are told. */
const PRIVATE = {
  dpa: { reference: 'DPA-PRIVATE-REF', signedOn: '2026-01-01' },
  retention: { control: 'RETENTION-PRIVATE', configuredIn: ['PRIVATE-PATH.ts'] },
  hosts: ['private-host.example'],
};

const before = new SubprocessorRegistry([entry({ id: 'ocr-co', ...PRIVATE })]);
const after = new SubprocessorRegistry([
  entry({ id: 'ocr-co', ...PRIVATE, locations: ['EU', 'US'], effective: '2027-02-01' }),
  entry({
    id: 'mail-co',
    legalName: 'Mail Co GmbH',
    purpose: 'sends mail',
    ...PRIVATE,
    hosts: ['smtp.mail-co.example'],
    announced: '2026-12-01',
    effective: '2027-01-01',
  }),
]);

function notice(changeSet = diffRegistries(before, after), announcedOn = '2026-12-01') {
  const built = buildNotice({ changeSet, fromCommit: A, toCommit: B, announcedOn });
  if (!built) throw new Error('no notice');
  return built;
}

describe('buildNotice', () => {
  it('builds nothing from an empty change set', () => {
    expect(
      buildNotice({
        changeSet: diffRegistries(before, before),
        fromCommit: A,
        toCommit: A,
        announcedOn: '2026-12-01',
      }),
    ).toBeUndefined();
  });

  it('names the notice by the change set hash: the same change twice is the same notice, another is another', () => {
    const first = notice();
    const again = notice(diffRegistries(before, after), '2026-12-09');
    expect(again.id).toBe(first.id);
    expect(first.id).toBe(`spn_${changeSetSha256(diffRegistries(before, after)).slice(0, 32)}`);
    const other = notice(diffRegistries(before, new SubprocessorRegistry([])));
    expect(other.id).not.toBe(first.id);
  });

  it('lists each vendor with its effective day; the window closes on the earliest', () => {
    const n = notice();
    expect(n.vendorIds).toEqual(['mail-co', 'ocr-co']);
    expect(n.effectiveDates).toEqual(['2027-01-01', '2027-02-01']);
    expect(n.objectionWindowClosesOn).toBe('2027-01-01');
    expect(n.changes.map((c) => [c.id, c.kind, c.fields])).toEqual([
      ['mail-co', 'added', expect.arrayContaining(['hosts', 'purpose'])],
      ['ocr-co', 'changed', ['effective', 'locations']],
    ]);
  });

  it('a removed vendor is gone from the announcement day, which closes the window at once', () => {
    const n = notice(diffRegistries(before, new SubprocessorRegistry([])), '2026-12-05');
    expect(n.changes[0]).toMatchObject({ id: 'ocr-co', kind: 'removed', effective: '2026-12-05' });
    expect(objectionWindowOpen(n, '2026-12-04')).toBe(true);
    expect(objectionWindowOpen(n, '2026-12-05')).toBe(false);
  });

  it('accepts objections until the day before the earliest effective day, not on it', () => {
    const n = notice();
    expect(objectionWindowOpen(n, '2026-12-31')).toBe(true);
    expect(objectionWindowOpen(n, '2027-01-01')).toBe(false);
    expect(objectionWindowOpen(n, '2027-03-01')).toBe(false);
  });
});

describe('renderNoticeMail', () => {
  const n = notice();
  const mail = renderNoticeMail(n, {
    trustPage: 'https://trust.example/',
    objectionsUrl: `https://api.example/v1/subprocessor-notices/${n.id}/objections`,
  });

  it('says what changes, when, and until when and where to object', () => {
    expect(mail.subject).toBe(
      'Sub-processor notice: Mail Co GmbH, Vendor Ltd (effective 2027-01-01)',
    );
    expect(mail.text).toContain('New sub-processor: Mail Co GmbH (mail-co), effective 2027-01-01');
    expect(mail.text).toContain('Sub-processor changed: Vendor Ltd (ocr-co), effective 2027-02-01');
    expect(mail.text).toContain('Changed fields: effective, locations');
    expect(mail.text).toContain('You may object until 2027-01-01');
    expect(mail.text).toContain(
      `POST https://api.example/v1/subprocessor-notices/${n.id}/objections`,
    );
    expect(mail.text).toContain(n.changeSetSha256);
    expect(mail.text).toContain('https://trust.example/');
  });

  it('carries no registry field customers are not told (DPA reference, retention control, hosts)', () => {
    for (const secret of [
      'DPA-PRIVATE-REF',
      'RETENTION-PRIVATE',
      'PRIVATE-PATH',
      'private-host',
      'smtp.mail-co',
    ]) {
      expect([secret, `${mail.subject}\n${mail.text}`.includes(secret)]).toEqual([secret, false]);
      expect([secret, JSON.stringify(n).includes(secret)]).toEqual([secret, false]);
    }
  });

  it('the confirmation mail carries its link and nothing else of the tenant', () => {
    const confirm = renderConfirmationMail('https://api.example/confirm?token=T');
    expect(confirm.text).toContain('Confirm: https://api.example/confirm?token=T');
    expect(confirm.text).toMatch(/receives no notice/);
  });
});

describe('the recipient in delivery evidence', () => {
  it('is an HMAC under the subscription salt: not the address, and unlinkable without the salt', () => {
    const salt = Buffer.alloc(32, 7).toString('base64url');
    const other = Buffer.alloc(32, 8).toString('base64url');
    const hash = recipientSha256(salt, 'ops@customer.example');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('customer');
    expect(recipientSha256(other, 'ops@customer.example')).not.toBe(hash);
    expect(recipientSha256(salt, 'ops@customer.example')).toBe(hash);
  });
});

describe('the notice relay is a sub-processor', () => {
  const registry = loadRegistry(defaultRegistryDir());
  const relay = registry.byHost(NOTICE_RELAY_HOST.host);

  it('is registered, engaged for notices, with the full notice period', () => {
    expect(relay).toMatchObject({ id: 'amazon-ses', engagedFor: 'notices' });
    expect(relay?.grandfathered).toBeUndefined();
  });

  it('the mailer sends nothing through it before its effective day, and through it from then on', () => {
    const effective = relay?.effective ?? '';
    const dayBefore = new Date(`${effective}T00:00:00.000Z`);
    dayBefore.setUTCDate(dayBefore.getUTCDate() - 1);
    expect(relayRefusal(NOTICE_RELAY_HOST.host, dayBefore, registry)).toMatchObject({
      code: 'subprocessor_not_active',
    });
    expect(
      relayRefusal(NOTICE_RELAY_HOST.host, new Date(`${effective}T00:00:00.000Z`), registry),
    ).toBeUndefined();
  });

  it('the mailer refuses a relay no entry lists, and accepts one on loopback (the local sink)', () => {
    expect(relayRefusal('smtp.unlisted.example', new Date(), registry)).toMatchObject({
      code: 'subprocessor_not_active',
      details: { status: 'unregistered' },
    });
    expect(relayRefusal('127.0.0.1', new Date(), registry)).toBeUndefined();
  });

  it('the gate passes with the relay announced, and fails without its entry or once it is retired', () => {
    const gate = (r: SubprocessorRegistry, today = '2026-12-01') =>
      checkRegistry({ registry: r, codeHosts: codeHosts(), today, noticeDays: 30 }).map(
        (f) => `${f.rule} ${f.id ?? NOTICE_RELAY_HOST.host}`,
      );
    expect(gate(registry)).toEqual([]);
    const without = new SubprocessorRegistry(registry.entries.filter((e) => e.id !== 'amazon-ses'));
    expect(gate(without)).toEqual([`unregistered_host ${NOTICE_RELAY_HOST.host}`]);
    const retired = new SubprocessorRegistry(
      registry.entries.map((e) =>
        e.id === 'amazon-ses' ? { ...e, status: 'retired' as const } : e,
      ),
    );
    expect(gate(retired)).toEqual(['host_not_in_force amazon-ses']);
  });
});

describe('notice mail configuration', () => {
  const base = {
    GOOGLE_CLOUD_PROJECT: 'p',
    DOCUMENTS_BUCKET: 'p-documents',
    AUDIT_BUCKET: 'p-audit',
    KMS_KEY_RING: 'projects/p/locations/l/keyRings/r',
    SEALING_KEY_VERSION: 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
    OPENAI_API_KEY: 'x',
    ANTHROPIC_API_KEY: 'y',
    API_KEY_PEPPER: 'p'.repeat(32),
  };
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      parseConfig(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('needs the public API URL for the links, once a relay is set', () => {
    expect(problems({ ...base, SMTP_URL: 'smtps://u:p@relay.example:465' })).toEqual([
      'PUBLIC_API_URL: missing (SMTP_URL is set; notice mails link to the API)',
    ]);
  });

  it('refuses a plaintext relay when deployed, and accepts smtps', () => {
    const deployed = { ...base, K_SERVICE: 'api', PUBLIC_API_URL: 'https://api.example' };
    expect(problems({ ...deployed, SMTP_URL: 'smtp://relay.example:587' })).toEqual([
      'SMTP_URL: a plaintext SMTP relay, refused when deployed (K_SERVICE is set)',
    ]);
    expect(problems({ ...deployed, SMTP_URL: 'smtps://u:p@relay.example:465' })).toEqual([]);
  });

  it('refuses a relay URL that is not SMTP', () => {
    expect(problems({ ...base, SMTP_URL: 'https://relay.example' })[0]).toMatch(/^SMTP_URL: /);
  });
});
