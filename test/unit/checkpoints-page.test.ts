/**
 * `GET /v1/evidence/checkpoints` a page at a time: walking the pages with `nextPageToken` gives
 * every seal once, in order, and ends with null; a token the API did not issue is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { AppError } from '../../functions/src/errors';
import { tenantCheckpoints } from '../../functions/src/ledger/tenant-proofs';
import type { Services } from '../../functions/src/services';
import type { ListOptions } from '../../functions/src/tenancy/firestore';

const SEALS = 7;
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

const seal = (seq: number) => ({
  version: 1,
  tenantId: 't1',
  seq,
  treeSize: seq * 2,
  rootHash: 'ab'.repeat(32),
  batch: { firstIndex: seq * 2 - 2, count: 2 },
  coverage: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
  prevSealHash: seq === 1 ? null : 'cd'.repeat(32),
  sealedAt: '2026-01-02T00:00:00.000Z',
  signature: { keyVersion: 'k/1', algorithm: 'EC_SIGN_P256_SHA256', value: 'AA==' },
});

/** The `seals` collection as Firestore answers the query the listing makes. */
const services = {
  config: { SEALING_KEY_VERSION: 'k/1' },
  keyManager: { getPublicKeyPem: () => Promise.resolve(pem) },
  platform: {
    tenantDb: () => ({
      list: (collection: string, options: ListOptions = {}) => {
        expect(collection).toBe('seals');
        const [field, op, after] = options.where?.[0] ?? [];
        expect([field, op]).toEqual(['seal.seq', '>']);
        const docs = Array.from({ length: SEALS }, (_, i) => seal(i + 1))
          .filter((s) => s.seq > (after as number))
          .slice(0, options.limit);
        return Promise.resolve(docs.map((s) => ({ id: String(s.seq), data: { seal: s } })));
      },
    }),
  },
} as unknown as Services;

const tenant = { id: 't1' } as Parameters<typeof tenantCheckpoints>[1];

describe('checkpoint listing pages', () => {
  it.each([1, 2, 3, 7, 100])(
    'pageSize %d walks every seal once, in order, then null',
    async (pageSize) => {
      const seen: number[] = [];
      let pageToken: string | undefined;
      for (let pages = 0; pages < SEALS + 2; pages++) {
        const page = await tenantCheckpoints(services, tenant, {
          pageSize,
          ...(pageToken ? { pageToken } : {}),
        });
        expect(page.checkpoints.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page.checkpoints.map((c) => c.seq));
        if (page.nextPageToken === null) break;
        pageToken = page.nextPageToken;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    },
  );

  it('answers the log origin and its signed-note verifier key', async () => {
    const page = await tenantCheckpoints(services, tenant, { pageSize: 1 });
    expect(page.origin).toBe('provenant/evidence/t1');
    expect(page.verifierKey).toMatch(/^provenant\/evidence\/t1\+[0-9a-f]{8}\+Aj/);
  });

  it.each([
    'garbage',
    '',
    Buffer.from('seq:0').toString('base64url'),
    Buffer.from('seq:01').toString('base64url'),
    Buffer.from('seq:3 ').toString('base64url'),
  ])('refuses page token %j with 400 invalid_page_token', async (pageToken) => {
    await expect(
      tenantCheckpoints(services, tenant, { pageSize: 2, pageToken }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'invalid_page_token',
    });
    await expect(
      tenantCheckpoints(services, tenant, { pageSize: 2, pageToken }),
    ).rejects.toBeInstanceOf(AppError);
  });
});
