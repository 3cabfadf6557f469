/**
 * Claim handling of people's ID tokens, with a stubbed verifier: the Auth emulator's tokens are
 * unsigned, so signature checks belong to firebase-admin and are not what is tested here.
 */
import { AppError } from '../../functions/src/errors';
import { issueApiKey, requireScope } from '../../functions/src/tenancy/api-keys';
import {
  firebaseIdTokenVerifier,
  ROLE_SCOPES,
  resolveBearer,
  type Denial,
  type IdTokenClaims,
  type IdTokenVerifier,
} from '../../functions/src/tenancy/identity';
import {
  API_KEY_SCOPES,
  type ApiKeyRecord,
  type PlatformDb,
  type TenantProfile,
} from '../../functions/src/tenancy/platform';

const PEPPER = 'pepper-'.repeat(6);
/** JWT-shaped, as only a JWT is taken for an ID token. */
const GOOD = 'eyJhbGciOiJub25lIn0.good-token.';

function profile(id: string, extra: Partial<TenantProfile> = {}): TenantProfile {
  return {
    id,
    name: id,
    status: 'active',
    kekName: `kek-${id}`,
    wrappingKey: { wrapped: 'x', kekVersion: '1' },
    providers: { primary: 'openai', fallback: null },
    ...extra,
  };
}

class FakePlatform {
  readonly tenants = new Map<string, TenantProfile>([
    ['acme', profile('acme')],
    ['globex', profile('globex', { identityTenantId: 'globex-people-1a2b3' })],
    ['gone', profile('gone', { status: 'offboarded' })],
  ]);
  readonly keys = new Map<string, ApiKeyRecord>();

  getTenant(id: string): Promise<TenantProfile | undefined> {
    return Promise.resolve(this.tenants.get(id));
  }
  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(this.keys.get(keyId));
  }
  touchApiKey(): Promise<void> {
    return Promise.resolve();
  }
  get db(): PlatformDb {
    return this as unknown as PlatformDb;
  }
}

/** A verifier that accepts exactly one token and returns the given claims. */
function stubVerifier(claims: IdTokenClaims, accepted = GOOD): IdTokenVerifier {
  return (token) => {
    if (token !== accepted) {
      return Promise.reject(Object.assign(new Error('bad token'), { code: 'auth/argument-error' }));
    }
    return Promise.resolve(claims);
  };
}

function resolve(verifier: IdTokenVerifier, token = GOOD, platform = new FakePlatform()) {
  const denials: Denial[] = [];
  const result = resolveBearer(
    {
      platform: platform.db,
      pepper: PEPPER,
      verifyIdToken: verifier,
      onDenied: (d) => denials.push(d),
    },
    token,
  );
  return { result, denials };
}

async function expectError(
  promise: Promise<unknown>,
  status: number,
  code: string,
): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status, code });
  return err as AppError;
}

const claims = (extra: IdTokenClaims): IdTokenClaims => ({
  uid: 'user-1',
  firebase: { sign_in_provider: 'custom' },
  ...extra,
});

describe('ID token denials', () => {
  it.each([
    ['auth/argument-error'],
    ['auth/id-token-expired'],
    ['auth/id-token-revoked'],
    ['auth/user-disabled'],
    ['auth/user-not-found'],
  ])('a verifier refusal (%s) is 401 invalid_token, logged without the token', async (code) => {
    const verifier: IdTokenVerifier = () =>
      Promise.reject(Object.assign(new Error('refused'), { code }));
    const { result, denials } = resolve(verifier, 'eyJ.secret-token-body.sig');
    await expectError(result, 401, 'invalid_token');
    expect(denials).toEqual([{ reason: 'invalid_id_token', detail: code }]);
    expect(JSON.stringify(denials)).not.toContain('secret-token-body');
  });

  it('a verifier that cannot run (no auth/ code, or auth/internal-error) is a 500, not a 401', async () => {
    await expectError(
      resolve(() => Promise.reject(new Error('ECONNREFUSED'))).result,
      500,
      'auth_unavailable',
    );
    await expectError(
      resolve(() => Promise.reject(Object.assign(new Error('x'), { code: 'auth/internal-error' })))
        .result,
      500,
      'auth_unavailable',
    );
  });

  it('claims without a uid are an invalid token', async () => {
    const { result } = resolve(stubVerifier({ tenant_id: 'acme', role: 'admin' }));
    await expectError(result, 401, 'invalid_token');
  });

  it.each<[string, IdTokenClaims]>([
    ['absent', {}],
    ['empty', { tenant_id: '' }],
    ['a number', { tenant_id: 42 }],
    ['a list', { tenant_id: ['acme'] }],
    ['null', { tenant_id: null }],
  ])('a tenant_id claim that is %s is 403 missing_tenant_claim', async (_, extra) => {
    const { result, denials } = resolve(stubVerifier(claims({ role: 'admin', ...extra })));
    await expectError(result, 403, 'missing_tenant_claim');
    expect(denials).toEqual([{ reason: 'missing_tenant_claim', uid: 'user-1' }]);
  });

  it.each<[string, unknown]>([
    ['absent', undefined],
    ['unknown', 'owner'],
    ['differently cased', 'Admin'],
    ['a list', ['admin']],
    ['an object', { admin: true }],
  ])('a role that is %s is 403 invalid_role', async (_, role) => {
    const extra: IdTokenClaims = { tenant_id: 'acme' };
    if (role !== undefined) extra.role = role;
    const { result, denials } = resolve(stubVerifier(claims(extra)));
    await expectError(result, 403, 'invalid_role');
    expect(denials[0]).toMatchObject({ reason: 'invalid_role', uid: 'user-1' });
  });

  it('a tenant_id naming no tenant is 403 unknown_tenant', async () => {
    const { result, denials } = resolve(
      stubVerifier(claims({ tenant_id: 'initech', role: 'admin' })),
    );
    await expectError(result, 403, 'unknown_tenant');
    expect(denials).toEqual([{ reason: 'unknown_tenant', tenantId: 'initech', uid: 'user-1' }]);
  });

  it('an offboarded tenant is 403 tenant_inactive', async () => {
    const { result } = resolve(stubVerifier(claims({ tenant_id: 'gone', role: 'admin' })));
    await expectError(result, 403, 'tenant_inactive');
  });

  it("a token from another identity tenant than the profile's is refused", async () => {
    const { result, denials } = resolve(
      stubVerifier(
        claims({ tenant_id: 'globex', role: 'admin', firebase: { tenant: 'other-tenant-9z' } }),
      ),
    );
    await expectError(result, 403, 'identity_tenant_mismatch');
    expect(denials[0]).toMatchObject({ reason: 'identity_tenant_mismatch', uid: 'user-1' });
  });

  it('a project-level token for a tenant whose people live in an identity tenant is refused', async () => {
    const { result } = resolve(stubVerifier(claims({ tenant_id: 'globex', role: 'admin' })));
    await expectError(result, 403, 'identity_tenant_mismatch');
  });

  it('an identity-tenant token for a tenant without one is refused', async () => {
    const { result } = resolve(
      stubVerifier(
        claims({ tenant_id: 'acme', role: 'admin', firebase: { tenant: 'globex-people-1a2b3' } }),
      ),
    );
    await expectError(result, 403, 'identity_tenant_mismatch');
  });
});

describe('ID token acceptance', () => {
  it.each(['admin', 'member', 'auditor'] as const)(
    'role %s becomes a user principal with its scopes',
    async (role) => {
      const { result, denials } = resolve(stubVerifier(claims({ tenant_id: 'acme', role })));
      const { principal, tenant } = await result;
      expect(principal).toEqual({
        kind: 'user',
        uid: 'user-1',
        tenantId: 'acme',
        role,
        scopes: ROLE_SCOPES[role],
      });
      expect(tenant.id).toBe('acme');
      expect(denials).toEqual([]);
    },
  );

  it('maps roles to exactly the documented scopes', () => {
    expect([...ROLE_SCOPES.admin].sort()).toEqual([...API_KEY_SCOPES].sort());
    expect([...ROLE_SCOPES.member].sort()).toEqual(['extractions:read', 'extractions:write']);
    expect([...ROLE_SCOPES.auditor]).toEqual(['extractions:read']);
  });

  it('accepts a matching identity tenant', async () => {
    const { result } = resolve(
      stubVerifier(
        claims({
          tenant_id: 'globex',
          role: 'member',
          firebase: { tenant: 'globex-people-1a2b3' },
        }),
      ),
    );
    await expect(result).resolves.toMatchObject({ principal: { tenantId: 'globex' } });
  });

  it('requireScope works for people: an auditor may read but not write', async () => {
    const { principal } = await resolve(
      stubVerifier(claims({ tenant_id: 'acme', role: 'auditor' })),
    ).result;
    expect(() => {
      requireScope(principal, 'extractions:read');
    }).not.toThrow();
    expect(() => {
      requireScope(principal, 'extractions:write');
    }).toThrow(expect.objectContaining({ status: 403, code: 'insufficient_scope' }) as Error);
    expect(() => {
      requireScope(principal, 'keys:admin');
    }).toThrow(expect.objectContaining({ code: 'insufficient_scope' }) as Error);
  });
});

describe('API keys through the same entry point', () => {
  function withKey(tenantId: string, record: Partial<ApiKeyRecord> = {}) {
    const platform = new FakePlatform();
    const issued = issueApiKey(PEPPER);
    platform.keys.set(issued.keyId, {
      tenantId,
      hash: issued.hash,
      scopes: ['extractions:read'],
      name: 'k',
      expiresAt: null,
      revokedAt: null,
      ...record,
    });
    return { platform, issued };
  }
  const never: IdTokenVerifier = () => Promise.reject(new Error('the ID token path was taken'));

  it('a pvn_ token never reaches the ID token verifier', async () => {
    const { platform, issued } = withKey('acme');
    const { result } = resolve(never, issued.token, platform);
    await expect(result).resolves.toMatchObject({
      principal: { kind: 'apiKey', keyId: issued.keyId, tenantId: 'acme' },
    });
  });

  it('a malformed pvn_ token is the API key 401, not an ID token attempt', async () => {
    const { result, denials } = resolve(never, 'pvn_nonsense');
    await expectError(result, 401, 'invalid_api_key');
    expect(denials).toEqual([{ reason: 'malformed', keyId: undefined }]);
  });

  it.each([['not-a-key'], ['Zm9v'], ['a.b'], ['a.b.c.d']])(
    'a token that is neither an API key nor a JWT (%s) gets the API key 401',
    async (token) => {
      const { result, denials } = resolve(never, token);
      await expectError(result, 401, 'invalid_api_key');
      expect(denials).toEqual([{ reason: 'malformed' }]);
    },
  );

  it('a key whose tenant is gone or inactive is refused, naming the key id', async () => {
    const gone = withKey('initech');
    const r1 = resolve(never, gone.issued.token, gone.platform);
    await expectError(r1.result, 403, 'unknown_tenant');
    expect(r1.denials[0]).toMatchObject({ reason: 'unknown_tenant', keyId: gone.issued.keyId });
    const inactive = withKey('gone');
    const r2 = resolve(never, inactive.issued.token, inactive.platform);
    await expectError(r2.result, 403, 'tenant_inactive');
    expect(JSON.stringify([...r1.denials, ...r2.denials])).not.toContain(
      gone.issued.token.slice(22),
    );
  });
});

describe('the firebase-admin verifier', () => {
  it('refuses a token from an identity tenant no Provenant tenant registered, before firebase-admin', async () => {
    const asked: string[] = [];
    const verifier = firebaseIdTokenVerifier('demo-provenant', (id) => {
      asked.push(id);
      return Promise.resolve(false);
    });
    const payload = Buffer.from(
      JSON.stringify({ uid: 'u', firebase: { tenant: 'forged-tenant-1' } }),
    ).toString('base64url');
    const err = await verifier(`eyJhbGciOiJub25lIn0.${payload}.`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'auth/unregistered-identity-tenant' });
    expect(asked).toEqual(['forged-tenant-1']);
    // Through resolveBearer, that is the ordinary 401.
    const { result } = resolve(verifier, `eyJhbGciOiJub25lIn0.${payload}.`);
    await expectError(result, 401, 'invalid_token');
  });
});
