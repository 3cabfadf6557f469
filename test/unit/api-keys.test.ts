import { AppError } from '../../functions/src/errors';
import {
  hashSecret,
  issueApiKey,
  parseApiKey,
  requireScope,
  verifyApiKey,
} from '../../functions/src/tenancy/api-keys';
import type { ApiKeyRecord, PlatformDb } from '../../functions/src/tenancy/platform';

const PEPPER = 'pepper-'.repeat(6);
const NOW = new Date('2026-03-12T10:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();

/** The two PlatformDb methods verifyApiKey uses, over an in-memory map. */
class FakePlatform {
  readonly records = new Map<string, ApiKeyRecord>();
  readonly touched: string[] = [];
  /** What touchApiKey writes as lastUsedAt (Firestore's commit time in production). */
  commitTime = NOW;

  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(this.records.get(keyId));
  }

  touchApiKey(keyId: string): Promise<void> {
    this.touched.push(keyId);
    const record = this.records.get(keyId);
    if (record) record.lastUsedAt = this.commitTime.toISOString();
    return Promise.resolve();
  }

  get db(): PlatformDb {
    return this as unknown as PlatformDb;
  }
}

function setup(overrides: Partial<ApiKeyRecord> = {}) {
  const platform = new FakePlatform();
  const issued = issueApiKey(PEPPER);
  platform.records.set(issued.keyId, {
    tenantId: 'tenant-a',
    hash: issued.hash,
    scopes: ['extractions:write', 'extractions:read'],
    name: 'ci key',
    createdAt: at(-86_400_000),
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  });
  return { platform, issued };
}

interface Denial {
  error: AppError;
  reasons: [string, string | undefined][];
}

async function denial(platform: FakePlatform, token: string, now = NOW): Promise<Denial> {
  const reasons: [string, string | undefined][] = [];
  try {
    await verifyApiKey(platform.db, PEPPER, token, now, (reason, keyId) => {
      reasons.push([reason, keyId]);
    });
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return { error: err as AppError, reasons };
  }
  throw new Error('verifyApiKey accepted a key it should have denied');
}

describe('issueApiKey', () => {
  it('returns pvn_<16 id chars>_<43 secret chars> with a matching keyId', () => {
    const issued = issueApiKey(PEPPER);
    expect(issued.token).toMatch(/^pvn_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(issued.keyId).toMatch(/^[a-z0-9]{16}$/);
    expect(issued.token.startsWith(`pvn_${issued.keyId}_`)).toBe(true);
  });

  it('stores only hashSecret(pepper, secret), never the secret', () => {
    const issued = issueApiKey(PEPPER);
    const secret = issued.token.slice(`pvn_${issued.keyId}_`.length);
    expect(secret).toHaveLength(43);
    expect(issued.hash).toBe(hashSecret(PEPPER, secret));
    expect(issued.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.hash).not.toContain(secret);
    expect(issued.hash).not.toContain(Buffer.from(secret, 'base64url').toString('hex'));
    expect(issued.hash).not.toBe(hashSecret('another-pepper-'.repeat(3), secret));
  });

  it('issues a distinct id and secret every time', () => {
    const tokens = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const issued = issueApiKey(PEPPER);
      tokens.add(issued.token);
      ids.add(issued.keyId);
      expect(parseApiKey(issued.token)).toEqual({
        keyId: issued.keyId,
        secret: issued.token.slice(21),
      });
    }
    expect(tokens.size).toBe(200);
    expect(ids.size).toBe(200);
  });
});

describe('hashSecret', () => {
  it('is HMAC-SHA256 keyed by the pepper (RFC 4231 test case 2)', () => {
    expect(hashSecret('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('parseApiKey', () => {
  const id = 'abcdef0123456789';
  const secret = 'A'.repeat(20) + '_-' + 'z9'.repeat(10) + 'Q';

  it('accepts the canonical shape', () => {
    expect(secret).toHaveLength(43);
    expect(parseApiKey(`pvn_${id}_${secret}`)).toEqual({ keyId: id, secret });
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['prefix only', 'pvn_'],
    ['no secret', `pvn_${id}_`],
    ['wrong prefix', `pvk_${id}_${secret}`],
    ['upper-case prefix', `PVN_${id}_${secret}`],
    ['no prefix', `${id}_${secret}`],
    ['upper-case key id', `pvn_ABCDEF0123456789_${secret}`],
    ['15-char key id', `pvn_${id.slice(1)}_${secret}`],
    ['17-char key id', `pvn_${id}0_${secret}`],
    ['key id with a dash', `pvn_abcdef-123456789_${secret}`],
    ['42-char secret', `pvn_${id}_${secret.slice(1)}`],
    ['44-char secret', `pvn_${id}_${secret}A`],
    ['standard base64 "+"', `pvn_${id}_+${secret.slice(1)}`],
    ['standard base64 "/"', `pvn_${id}_/${secret.slice(1)}`],
    ['base64 padding', `pvn_${id}_${secret.slice(1)}=`],
    ['leading space', ` pvn_${id}_${secret}`],
    ['trailing newline', `pvn_${id}_${secret}\n`],
    ['Bearer prefix', `Bearer pvn_${id}_${secret}`],
    ['dash separator', `pvn-${id}-${secret}`],
    ['non-ASCII secret', `pvn_${id}_é${secret.slice(1)}`],
  ])('rejects %s', (_label, token) => {
    expect(parseApiKey(token)).toBeUndefined();
  });
});

describe('verifyApiKey', () => {
  it('returns the principal for a valid key', async () => {
    const { platform, issued } = setup();
    const principal = await verifyApiKey(platform.db, PEPPER, issued.token, NOW);
    expect(principal).toEqual({
      kind: 'apiKey',
      keyId: issued.keyId,
      tenantId: 'tenant-a',
      scopes: ['extractions:write', 'extractions:read'],
      validUntil: null,
    });
  });

  it('accepts a key that expires or is revoked only in the future', async () => {
    const { platform, issued } = setup({ expiresAt: at(1), revokedAt: at(1) });
    await expect(verifyApiKey(platform.db, PEPPER, issued.token, NOW)).resolves.toMatchObject({
      tenantId: 'tenant-a',
    });
  });

  it.each([
    ['neither expiry nor revocation', null, null, null],
    ['an expiry only', at(3_600_000), null, at(3_600_000)],
    ['a scheduled revocation only (a rotated key)', null, at(60_000), at(60_000)],
    ['both: the earlier, revocation', at(3_600_000), at(60_000), at(60_000)],
    ['both: the earlier, expiry', at(60_000), at(3_600_000), at(60_000)],
  ])(
    'says until when the key works, with %s (what it issues ends no later)',
    async (_, expiresAt, revokedAt, validUntil) => {
      const { platform, issued } = setup({ expiresAt, revokedAt });
      const principal = await verifyApiKey(platform.db, PEPPER, issued.token, NOW);
      expect(principal.validUntil).toBe(validUntil);
    },
  );

  describe('denials are indistinguishable to the caller', () => {
    async function denials(): Promise<Record<string, Denial>> {
      const valid = setup();
      const unknown = issueApiKey(PEPPER); // never stored
      const wrongSecret = issueApiKey(PEPPER);
      const revoked = setup({ revokedAt: at(-1000) });
      const revokedNow = setup({ revokedAt: at(0) });
      const expired = setup({ expiresAt: at(-1000) });
      const expiredNow = setup({ expiresAt: at(0) });
      const forged = `pvn_${valid.issued.keyId}_${wrongSecret.token.slice(21)}`;
      return {
        malformed: await denial(valid.platform, 'pvn_not-a-key'),
        unknown_key: await denial(valid.platform, unknown.token),
        wrong_secret: await denial(valid.platform, forged),
        wrong_pepper: await denial(
          (() => {
            const p = new FakePlatform();
            p.records.set(wrongSecret.keyId, {
              tenantId: 'tenant-a',
              hash: hashSecret('other-pepper-'.repeat(3), wrongSecret.token.slice(21)),
              scopes: [],
              name: 'k',
              expiresAt: null,
              revokedAt: null,
            });
            return p;
          })(),
          wrongSecret.token,
        ),
        revoked: await denial(revoked.platform, revoked.issued.token),
        revoked_now: await denial(revokedNow.platform, revokedNow.issued.token),
        expired: await denial(expired.platform, expired.issued.token),
        expired_now: await denial(expiredNow.platform, expiredNow.issued.token),
      };
    }

    it('answers every failure with the same 401, code, message and headers', async () => {
      const all = Object.values(await denials());
      expect(all).toHaveLength(8);
      for (const { error } of all) {
        expect(error.status).toBe(401);
        expect(error.code).toBe('invalid_api_key');
        expect(error.message).toBe('the API key is invalid, expired or revoked');
        expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
        expect(error.details).toBeUndefined();
      }
    });

    it('tells onDenied the distinct reason and the key id', async () => {
      const d = await denials();
      const reason = (name: string) => d[name]?.reasons.map(([r]) => r);
      expect(reason('malformed')).toEqual(['malformed']);
      expect(d.malformed?.reasons[0]?.[1]).toBeUndefined();
      expect(reason('unknown_key')).toEqual(['unknown_key']);
      expect(reason('wrong_secret')).toEqual(['wrong_secret']);
      expect(reason('wrong_pepper')).toEqual(['wrong_secret']);
      expect(reason('revoked')).toEqual(['revoked']);
      expect(reason('revoked_now')).toEqual(['revoked']);
      expect(reason('expired')).toEqual(['expired']);
      expect(reason('expired_now')).toEqual(['expired']);
      for (const name of ['unknown_key', 'wrong_secret', 'revoked', 'expired']) {
        expect(d[name]?.reasons[0]?.[1]).toMatch(/^[a-z0-9]{16}$/);
      }
    });

    it('records no use of a denied key', async () => {
      const revoked = setup({ revokedAt: at(-1000) });
      await denial(revoked.platform, revoked.issued.token);
      const expired = setup({ expiresAt: at(-1) });
      await denial(expired.platform, expired.issued.token);
      expect(revoked.platform.touched).toEqual([]);
      expect(expired.platform.touched).toEqual([]);
    });
  });

  describe('lastUsedAt', () => {
    it.each<[string, string | null | undefined, boolean]>([
      ['never used (null)', null, true],
      ['never used (absent)', undefined, true],
      ['used 30 s ago', at(-30_000), false],
      ['used exactly 60 s ago', at(-60_000), false],
      ['used 61 s ago', at(-61_000), true],
    ])('%s → touched: %p', async (_label, lastUsedAt, touched) => {
      const { platform, issued } = setup({ lastUsedAt });
      await verifyApiKey(platform.db, PEPPER, issued.token, NOW);
      expect(platform.touched).toEqual(touched ? [issued.keyId] : []);
    });

    it('is written at most once per minute for a busy key', async () => {
      const { platform, issued } = setup();
      // A request every 5 seconds for 3 minutes.
      for (let t = 0; t <= 180_000; t += 5_000) {
        const now = new Date(NOW.getTime() + t);
        platform.commitTime = now;
        await verifyApiKey(platform.db, PEPPER, issued.token, now);
      }
      // At 0 s, then the first request more than 60 s after each write: 65 s, 130 s.
      expect(platform.touched).toHaveLength(3);
      expect(platform.records.get(issued.keyId)?.lastUsedAt).toBe(at(130_000));
    });
  });
});

describe('requireScope', () => {
  it('passes when the principal holds the scope', () => {
    expect(() => {
      requireScope({ scopes: ['extractions:read', 'keys:admin'] }, 'keys:admin');
    }).not.toThrow();
  });

  it.each<[readonly string[]]>([[[]], [['extractions:read']], [['extractions:write ']]])(
    'throws 403 insufficient_scope for scopes %j',
    (scopes) => {
      let caught: unknown;
      try {
        requireScope({ scopes }, 'extractions:write');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AppError);
      expect((caught as AppError).status).toBe(403);
      expect((caught as AppError).code).toBe('insufficient_scope');
      expect((caught as AppError).message).toBe('this operation needs the extractions:write scope');
    },
  );
});
