/**
 * Per-tenant quota on the running stack: a tenant over its quota gets 429 with Retry-After and
 * the typed error, while another tenant is unaffected and no request of the refused one is
 * half-processed.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { callApi } from '../support/api';

let services: Services;
let limited: string;
let neighbour: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  const run = randomBytes(4).toString('hex');
  limited = (
    await onboardTenant(services, {
      tenantId: `quota-${run}`,
      name: 'small plan',
      quota: { perMinute: 6, burst: 3 },
    })
  ).apiKey.token;
  neighbour = (await onboardTenant(services, { tenantId: `quota-n-${run}`, name: 'neighbour' }))
    .apiKey.token;
});

afterAll(async () => {
  await services.close();
});

it('answers 429 with Retry-After once a tenant exceeds its quota, and only that tenant', async () => {
  for (let i = 0; i < 3; i++) {
    expect((await callApi('/v1/extractions', { key: limited })).status).toBe(200);
  }
  const refused = await callApi('/v1/extractions', { key: limited });
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(10);
  expect(refused.body).toMatchObject({
    error: { code: 'rate_limited', requestId: expect.any(String) as string },
  });
  expect((await callApi('/v1/extractions', { key: neighbour })).status).toBe(200);
});

it('does not charge requests that fail authentication to the tenant', async () => {
  const { apiKey } = await onboardTenant(services, {
    tenantId: `quota-f-${randomBytes(4).toString('hex')}`,
    name: 'forged at',
    quota: { perMinute: 1, burst: 2 },
  });
  const forged = `${apiKey.token.slice(0, 21)}${'x'.repeat(43)}`;
  for (let i = 0; i < 5; i++) {
    expect((await callApi('/v1/extractions', { key: forged })).status).toBe(401);
  }
  expect((await callApi('/v1/extractions', { key: apiKey.token })).status).toBe(200);
  expect((await callApi('/v1/extractions', { key: apiKey.token })).status).toBe(200);
  expect((await callApi('/v1/extractions', { key: apiKey.token })).status).toBe(429);
});
