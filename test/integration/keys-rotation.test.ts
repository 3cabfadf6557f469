/**
 * KEK rotation against the local stack's KMS: old ciphertexts still decrypt, the wrapping key
 * names the new version, old versions end DISABLED, a repeated id is a no-op, and a crash at
 * any step leaves everything decryptable and resumes on the next run.
 */
import { randomBytes } from 'node:crypto';
import type { CliIo } from '../../functions/src/cli/io';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { keyVersionManager } from '../../functions/src/crypto/kms';
import { rotateTenantKek, rotationEvidenceId } from '../../functions/src/lifecycle/key-rotation';
import { EvidenceRecordSchema, verifyContentHash } from '../../functions/src/evidence/record';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { extractInvoice } from '../support/api';

let services: Services;
let tenantId: string;
let apiKey: string;
const extractions: string[] = [];

async function profile(): Promise<TenantProfile> {
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant) throw new Error('tenant gone');
  return tenant;
}

async function versions(): Promise<Record<string, string>> {
  const kms = keyVersionManager(services.keyManager);
  const list = await kms.listCryptoKeyVersions((await profile()).kekName);
  return Object.fromEntries(list.map((v) => [v.name, v.state]));
}

/** Every extraction so far replays with a cold cache: the wrapping key unwraps from KMS. */
async function everythingDecrypts(): Promise<void> {
  services.keys.evict(tenantId);
  const tenant = await profile();
  await expect(services.keys.wrappingKey(tenant)).resolves.toHaveLength(32);
  for (const id of extractions) {
    await expect(replayExtraction(services, tenant, id)).resolves.toMatchObject({
      reproducible: true,
    });
  }
}

const injected = () => Promise.reject(new Error('injected crash'));
async function extract(n: number): Promise<string> {
  const done = await extractInvoice(apiKey, `Vendor: Rot ${String(n)}\nTotal: 1.00`);
  extractions.push(done.id);
  return done.id;
}

beforeAll(async () => {
  services = createServices(parseConfig());
  tenantId = `rot-${randomBytes(4).toString('hex')}`;
  const onboarded = await onboardTenant(services, { tenantId, name: 'Rotation' });
  apiKey = onboarded.apiKey.token;
  await extract(1);
}, 60_000);

afterAll(async () => {
  await services.close();
});

it('refuses an unknown tenant and an invalid rotation id', async () => {
  await expect(
    rotateTenantKek(services, 'no-such-tenant-x', { rotationId: 'r' }),
  ).rejects.toMatchObject({ status: 404 });
  await expect(rotateTenantKek(services, tenantId, { rotationId: 'bad/id' })).rejects.toMatchObject(
    { code: 'invalid_rotation_id' },
  );
});

it('rotates: new primary, wrapping key re-wrapped under it, old versions disabled, data intact', async () => {
  const before = await profile();
  const outcome = await rotateTenantKek(services, tenantId, { rotationId: 'r1' });
  expect(outcome.status).toBe('rotated');
  const after = await profile();
  expect(after.wrappingKey.kekVersion).toBe(outcome.newVersion);
  expect(after.wrappingKey.kekVersion).not.toBe(before.wrappingKey.kekVersion);
  expect(after.wrappingKey.wrapped).not.toBe(before.wrappingKey.wrapped);
  const states = await versions();
  expect(states[before.wrappingKey.kekVersion]).toBe('DISABLED');
  expect(states[outcome.newVersion ?? '']).toBe('ENABLED');
  const kek = await keyVersionManager(services.keyManager).getCryptoKey(after.kekName);
  expect(kek.primary?.name).toBe(outcome.newVersion);
  // The old wrapped form no longer unwraps: its version is disabled.
  services.keys.evict(tenantId);
  await expect(services.keys.wrappingKey(before)).rejects.toMatchObject({ code: 9 });
  await everythingDecrypts();
  // The running functions pick the new wrapping key up: a new extraction succeeds.
  await extract(2);
  await everythingDecrypts();

  const record = EvidenceRecordSchema.parse(
    await services.platform.tenantDb(after).get('evidence', rotationEvidenceId('r1')),
  );
  expect(verifyContentHash(record)).toBe(true);
  expect(record).toMatchObject({
    kind: 'key_rotation',
    details: { newVersion: outcome.newVersion },
  });
}, 60_000);

it('is a no-op the second time with the same id', async () => {
  const states = await versions();
  const wrapped = (await profile()).wrappingKey.wrapped;
  const again = await rotateTenantKek(services, tenantId, { rotationId: 'r1' });
  expect(again.status).toBe('noop');
  expect(await versions()).toEqual(states);
  expect((await profile()).wrappingKey.wrapped).toBe(wrapped);
});

it.each([
  ['after the new version is created', 'afterVersionCreated'],
  ['between the re-wrap and disabling the old versions', 'afterRewrap'],
  ['after disabling, before the evidence', 'afterDisable'],
] as const)(
  'a crash %s leaves everything decryptable, and the re-run finishes',
  async (_, hook) => {
    const rotationId = `crash-${hook}`;
    await expect(
      rotateTenantKek(services, tenantId, { rotationId, hooks: { [hook]: injected } }),
    ).rejects.toThrow('injected crash');
    await everythingDecrypts();
    if (hook === 'afterRewrap') {
      // Re-wrapped, but the old version is still enabled: nothing was disabled too early.
      const tenant = await profile();
      expect(tenant.keyRotation).toMatchObject({ id: rotationId, phase: 'started' });
      const enabled = Object.entries(await versions()).filter(([, s]) => s === 'ENABLED');
      expect(enabled.length).toBeGreaterThanOrEqual(2);
    }
    const resumed = await rotateTenantKek(services, tenantId, { rotationId });
    expect(['resumed', 'rotated']).toContain(resumed.status);
    const tenant = await profile();
    expect(tenant.wrappingKey.kekVersion).toBe(resumed.newVersion);
    expect(tenant.keyRotation).toMatchObject({ id: rotationId, phase: 'completed' });
    const enabled = Object.entries(await versions()).filter(([, s]) => s === 'ENABLED');
    expect(enabled.map(([name]) => name)).toEqual([resumed.newVersion]);
    await everythingDecrypts();
    expect((await rotateTenantKek(services, tenantId, { rotationId })).status).toBe('noop');
  },
  60_000,
);

it('runs from the CLI: provenant keys rotate --tenant', async () => {
  const lines: string[] = [];
  const io: CliIo = {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    progress: () => undefined,
    services: () => createServices(parseConfig()),
    confirm: () => Promise.resolve(undefined),
  };
  const args = ['keys', 'rotate', '--tenant', tenantId, '--rotation-id', 'cli-1', '--json'];
  // No terminal to ask on: a destructive command needs --yes.
  expect(await runCli(args, io)).toBe(1);
  expect(lines.pop()).toMatch(/refusing without --yes/);
  expect(await runCli([...args, '--yes'], io)).toBe(0);
  expect(JSON.parse(lines[0] ?? '[]')).toMatchObject([{ tenantId, status: 'rotated' }]);
  expect(await runCli([...args, '--yes'], io)).toBe(0);
  expect(JSON.parse(lines[1] ?? '[]')).toMatchObject([{ tenantId, status: 'noop' }]);
  await everythingDecrypts();
}, 60_000);
