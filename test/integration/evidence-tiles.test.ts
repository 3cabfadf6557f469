/**
 * Finding 3 of issue 9 ("receipts cost the whole log") and customer witnesses, on the local
 * stack: the sealer publishes the tenant's log as C2SP tiles and signed checkpoints in the
 * audit bucket; receipts and consistency proofs come from tiles; checkpoints are listed a page
 * at a time; a witness registers, cosigns checkpoints (its refusals too), and `audit verify`
 * reports the witnessed checkpoints of the export.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import {
  cosignatureKeyId,
  cosignedMessage,
  witnessVerifierKey,
} from '../../functions/src/evidence/cosignature';
import { openCheckpoint, parseSignedNote, signatureLine } from '../../functions/src/evidence/note';
import { verifyConsistencyDocument, verifyReceipt } from '../../functions/src/evidence/receipts';
import { trustedKey, type TrustRoot } from '../../functions/src/evidence/trust-root';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { captureCli } from '../support/cli';
import { callApi, extractInvoice } from '../support/api';
import { sealEverything as sealAll } from '../support/sealing';

let services: Services;
let tenant: TenantProfile;
let apiKey: string;
let publicKeyPem: string;
const extractionIds: string[] = [];

const sealEverything = () => sealAll(services, tenant);

const invoice = (n: number) =>
  `Vendor: Tiles Co ${String(n)}\nInvoice No: L-${String(n)}\nTotal: ${String(n)}.00`;

beforeAll(async () => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  const onboarded = await onboardTenant(services, {
    tenantId: `tiles-${randomBytes(4).toString('hex')}`,
    name: 'Tiles',
  });
  tenant = onboarded.tenant;
  apiKey = onboarded.apiKey.token;
  // Two seals: three extractions, then two more.
  for (let i = 1; i <= 3; i++) extractionIds.push((await extractInvoice(apiKey, invoice(i))).id);
  await sealEverything();
  for (let i = 4; i <= 5; i++) extractionIds.push((await extractInvoice(apiKey, invoice(i))).id);
  await sealEverything();
  publicKeyPem = await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);
}, 120_000);

afterAll(async () => {
  await services.close();
});

const tlog = () => `${services.config.AUDIT_EXPORT_PREFIX}/${tenant.id}/tlog`;

/** The platform key as the pinned trust root a verifier must be given. */
function pinnedRoot(): TrustRoot {
  const key = trustedKey(publicKeyPem);
  if (!key) throw new Error('the sealing key is not a public key');
  return { key };
}

describe('finding 3: receipts and proofs come from the tiled log, not the whole log', () => {
  it('the sealer stored tiles, entry bundles and a signed checkpoint per seal, Locked', async () => {
    const names = await services.objects.list(services.config.AUDIT_BUCKET, `${tlog()}/`);
    const rel = names.map((n) => n.slice(tlog().length + 1));
    const seals = (await callApi('/v1/evidence/checkpoints', { key: apiKey })).body as {
      checkpoints: { seq: number; treeSize: number }[];
    };
    expect(seals.checkpoints.length).toBeGreaterThanOrEqual(2);
    for (const seal of seals.checkpoints) {
      expect(rel).toContain(`checkpoints/${String(seal.seq).padStart(6, '0')}`);
      expect(rel).toContain(`tile/0/000.p/${String(seal.treeSize)}`);
      expect(rel).toContain(`tile/entries/000.p/${String(seal.treeSize)}`);
    }
    await expect(
      services.objects.delete(services.config.AUDIT_BUCKET, `${tlog()}/checkpoints/000001`),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('a receipt built from tiles verifies, for the first and the latest extraction', async () => {
    for (const id of [extractionIds[0] ?? '', extractionIds[4] ?? '']) {
      const reply = await callApi(`/v1/extractions/${id}/receipt`, { key: apiKey });
      expect(reply.status).toBe(200);
      expect(verifyReceipt(reply.body, pinnedRoot()).ok).toBe(true);
    }
  });

  it('checkpoint notes open under the log key, and a consistency proof joins any two seals', async () => {
    const one = (await callApi('/v1/evidence/checkpoints/1', { key: apiKey })).body as {
      note: string;
    };
    const body = openCheckpoint(one.note, publicKeyPem);
    expect(body?.origin).toBe(`provenant/evidence/${tenant.id}`);
    const proof = await callApi('/v1/evidence/consistency?from=1&to=2', { key: apiKey });
    expect(proof.status).toBe(200);
    expect(verifyConsistencyDocument(proof.body, publicKeyPem).ok).toBe(true);
    const backwards = await callApi('/v1/evidence/consistency?from=2&to=1', { key: apiKey });
    expect(backwards.status).toBe(400);
    expect((await callApi('/v1/evidence/checkpoints/99', { key: apiKey })).status).toBe(404);
  });

  it('lists checkpoints a page at a time and refuses a page token it did not issue', async () => {
    const first = await callApi('/v1/evidence/checkpoints?pageSize=1', { key: apiKey });
    const page1 = first.body as { checkpoints: { seq: number }[]; nextPageToken: string | null };
    expect(page1.checkpoints.map((c) => c.seq)).toEqual([1]);
    expect(page1.nextPageToken).not.toBeNull();
    const second = await callApi(
      `/v1/evidence/checkpoints?pageSize=1&pageToken=${page1.nextPageToken ?? ''}`,
      { key: apiKey },
    );
    const page2 = second.body as { checkpoints: { seq: number }[] };
    expect(page2.checkpoints.map((c) => c.seq)).toEqual([2]);
    const bad = await callApi('/v1/evidence/checkpoints?pageToken=not-a-token', { key: apiKey });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('invalid_page_token');
  });
});

describe('customer witnesses: register, cosign, refuse, and audit verify reports witnessed', () => {
  const name = 'witness.example.com/customer';
  let witnessKey: KeyObject;
  let keyId: Buffer;

  function cosign(note: string, key: KeyObject = witnessKey): string {
    const text = parseSignedNote(note)?.text ?? '';
    const timestamp = BigInt(Math.floor(Date.now() / 1000));
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(timestamp);
    const sig = sign(null, cosignedMessage(text, timestamp), key);
    return signatureLine({ name, keyId, signature: Buffer.concat([ts, sig]) });
  }
  const noteOf = async (seq: number) =>
    (
      (await callApi(`/v1/evidence/checkpoints/${String(seq)}`, { key: apiKey })).body as {
        note: string;
      }
    ).note;
  const submit = (seq: number, cosignature: string) =>
    callApi(`/v1/evidence/checkpoints/${String(seq)}/cosignatures`, {
      method: 'POST',
      key: apiKey,
      body: { cosignature },
    });
  const code = (r: { body: unknown }) => (r.body as { error?: { code: string } }).error?.code;

  beforeAll(async () => {
    const pair = generateKeyPairSync('ed25519');
    witnessKey = pair.privateKey;
    const raw = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    keyId = cosignatureKeyId(name, raw);
    const registered = await callApi('/v1/witnesses', {
      method: 'POST',
      key: apiKey,
      body: { vkey: witnessVerifierKey({ name, publicKey: raw, keyId }) },
    });
    expect(registered.status).toBe(201);
  });

  it('an unregistered witness key is refused', async () => {
    const stranger = generateKeyPairSync('ed25519');
    const raw = Buffer.from(stranger.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    const text = parseSignedNote(await noteOf(1))?.text ?? '';
    const ts = Buffer.alloc(8);
    const line = signatureLine({
      name,
      keyId: cosignatureKeyId(name, raw),
      signature: Buffer.concat([ts, sign(null, cosignedMessage(text, 0n), stranger.privateKey)]),
    });
    const reply = await submit(1, line);
    expect(reply.status).toBe(403);
    expect(code(reply)).toBe('unknown_witness');
  });

  it("a cosignature made with the wrong key under the witness's key ID is refused", async () => {
    const wrong = generateKeyPairSync('ed25519').privateKey;
    const reply = await submit(1, cosign(await noteOf(1), wrong));
    expect(reply.status).toBe(422);
    expect(code(reply)).toBe('invalid_cosignature');
  });

  it('accepts checkpoint 1, refuses its replay, accepts checkpoint 2, refuses going back', async () => {
    const first = cosign(await noteOf(1));
    expect((await submit(1, first)).status).toBe(201);
    const replay = await submit(1, first);
    expect(replay.status).toBe(409);
    expect(code(replay)).toBe('cosignature_not_newer');
    expect((await submit(2, cosign(await noteOf(2)))).status).toBe(201);
    const back = await submit(1, cosign(await noteOf(1)));
    expect(back.status).toBe(409);
  });

  it('audit verify of the export reports both checkpoints as witnessed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tiles-'));
    expect(
      await runCli(['audit', 'export', '--out', dir, '--tenant', tenant.id], captureCli()),
    ).toBe(0);
    const keyFile = path.join(dir, '..', `${path.basename(dir)}-platform.pem`);
    writeFileSync(keyFile, publicKeyPem);
    const out = captureCli();
    expect(await runCli(['audit', 'verify', dir, '--public-key', keyFile, '--json'], out)).toBe(0);
    const report = JSON.parse(out.lines[0] ?? '{}') as {
      witnesses: { witnessed: { tenantId: string; seq: number; witness: string }[] };
    };
    expect(report.witnesses.witnessed.map((w) => [w.tenantId, w.seq])).toEqual([
      [tenant.id, 1],
      [tenant.id, 2],
    ]);
    expect(report.witnesses.witnessed[0]?.witness).toBe(`${name}+${keyId.toString('hex')}`);
    const text = captureCli();
    expect(await runCli(['audit', 'verify', dir, '--public-key', keyFile], text)).toBe(0);
    expect(text.lines.join('\n')).toContain(`WITNESSED ${tenant.id}: seal 2`);
  });
});
