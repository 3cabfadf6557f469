import { createHmac } from 'node:crypto';
import {
  newWebhookSecret,
  signatureHeader,
  verifyWebhookSignature,
  webhookSignature,
} from '../../functions/src/webhooks/signature';

const secret = 'whsec_test-secret';
const body = '{"id":"evt_1","type":"extraction.succeeded"}';
const t = 1_767_225_600;

describe('webhook signatures', () => {
  it('is HMAC-SHA256(secret, t + "." + body) in hex, as documented', () => {
    const expected = createHmac('sha256', secret)
      .update(`${String(t)}.${body}`)
      .digest('hex');
    expect(webhookSignature(secret, t, body)).toBe(expected);
    expect(signatureHeader(secret, t, body)).toBe(`t=${String(t)},v1=${expected}`);
  });

  it('verifies its own header within the tolerance', () => {
    const header = signatureHeader(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body, { now: t })).toBe(true);
    expect(verifyWebhookSignature(secret, header, body, { now: t + 299 })).toBe(true);
  });

  it.each([
    ['another body', (h: string) => [h, body.replace('evt_1', 'evt_2'), t]],
    ['another secret', (h: string) => [h, body, t, 'whsec_other']],
    ['a stale timestamp', (h: string) => [h, body, t + 301]],
    ['a timestamp from the future', (h: string) => [h, body, t - 301]],
    [
      'a swapped timestamp',
      (h: string) => [h.replace(`t=${String(t)}`, `t=${String(t + 1)}`), body, t],
    ],
    ['no v1', () => [`t=${String(t)}`, body, t]],
    ['no t', (h: string) => [h.replace(/^t=\d+,/, ''), body, t]],
    ['a truncated signature', (h: string) => [h.slice(0, -2), body, t]],
    ['garbage', () => ['nonsense', body, t]],
  ] as const)('rejects %s', (_, mutate) => {
    const [header, b, now, key] = mutate(signatureHeader(secret, t, body)) as [
      string,
      string,
      number,
      string?,
    ];
    expect(verifyWebhookSignature(key ?? secret, header, b, { now })).toBe(false);
  });

  it('accepts any of several v1 entries (secret rotation)', () => {
    const good = webhookSignature(secret, t, body);
    const header = `t=${String(t)},v1=${'0'.repeat(64)},v1=${good}`;
    expect(verifyWebhookSignature(secret, header, body, { now: t })).toBe(true);
  });

  it('makes distinct, high-entropy secrets', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
