import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { InvalidModelOutputError } from '../../functions/src/extraction/postprocess/types';
import { classifyProviderError, RETRYABLE_OUTCOMES } from '../../functions/src/extraction/retry';
import { backoffDelayMs, parseRetryAfter } from '../../functions/src/util/backoff';

const policy = { baseMs: 250, maxMs: 10_000, retryAfterCapMs: 30_000 };

describe('backoffDelayMs', () => {
  it.each([
    [0, 125, 250],
    [1, 250, 500],
    [2, 500, 1000],
    [5, 4000, 8000],
    [6, 5000, 10_000],
    [20, 5000, 10_000],
  ])('attempt %i waits within [%i, %i]', (attempt, low, high) => {
    expect(backoffDelayMs(attempt, null, policy, () => 0)).toBe(low);
    expect(backoffDelayMs(attempt, null, policy, () => 0.999999)).toBe(high);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(attempt, null, policy);
      expect(d).toBeGreaterThanOrEqual(low);
      expect(d).toBeLessThanOrEqual(high);
    }
  });

  it('jitters: draws spread over the range rather than repeating one value', () => {
    const draws = new Set(Array.from({ length: 100 }, () => backoffDelayMs(3, null, policy)));
    expect(draws.size).toBeGreaterThan(20);
  });

  it('is linear in the random draw within the range', () => {
    expect(backoffDelayMs(2, null, policy, () => 0.5)).toBe(750);
  });

  it('never exceeds the maximum, even for huge attempt numbers', () => {
    expect(backoffDelayMs(1e9, null, policy, () => 0.999)).toBeLessThanOrEqual(10_000);
    expect(backoffDelayMs(-3, null, policy, () => 0)).toBe(125);
  });

  it('honours retry-after exactly, without jitter', () => {
    expect(backoffDelayMs(0, 1000, policy, () => 0)).toBe(1000);
    expect(backoffDelayMs(4, 1000, policy, () => 0.9)).toBe(1000);
    expect(backoffDelayMs(0, 0, policy)).toBe(0);
  });

  it('caps retry-after at the configured cap', () => {
    expect(backoffDelayMs(0, 120_000, policy)).toBe(30_000);
    expect(backoffDelayMs(0, 120_000, { ...policy, retryAfterCapMs: 2000 })).toBe(2000);
  });

  it('ignores a negative or non-finite retry-after and backs off normally', () => {
    expect(backoffDelayMs(0, -5, policy, () => 0)).toBe(125);
    expect(backoffDelayMs(0, Number.NaN, policy, () => 0)).toBe(125);
  });
});

describe('parseRetryAfter', () => {
  const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
  it('reads seconds, fractions, ms and HTTP dates', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '1' }))).toBe(1000);
    expect(parseRetryAfter(headers({ 'retry-after': '2.5' }))).toBe(2500);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '750', 'retry-after': '9' }))).toBe(750);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(
      3000,
    );
    expect(parseRetryAfter(headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }), now)).toBe(
      0,
    );
  });
  it('answers null when absent or unreadable', () => {
    expect(parseRetryAfter(headers({}))).toBeNull();
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeNull();
    expect(parseRetryAfter(headers({ 'retry-after': '-1' }))).toBeNull();
  });
});

describe('classifyProviderError', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it.each([
    [
      'openai 429',
      OpenAI.APIError.generate(429, {}, 'x', h({ 'retry-after': '1', 'x-request-id': 'req_a' })),
      'rate_limited',
      1000,
      'req_a',
    ],
    [
      'openai 500',
      OpenAI.APIError.generate(500, {}, 'x', h({ 'x-request-id': 'req_b' })),
      'server_error',
      null,
      'req_b',
    ],
    [
      'anthropic 529',
      Anthropic.APIError.generate(529, {}, 'x', h({ 'request-id': 'req_c' })),
      'server_error',
      null,
      'req_c',
    ],
    ['anthropic 503', Anthropic.APIError.generate(503, {}, 'x', h({})), 'server_error', null, null],
    [
      'openai 400',
      OpenAI.APIError.generate(400, {}, 'x', h({ 'x-request-id': 'req_d' })),
      'error',
      null,
      'req_d',
    ],
    ['anthropic 404', Anthropic.APIError.generate(404, {}, 'x', h({})), 'error', null, null],
    ['openai timeout', new OpenAI.APIConnectionTimeoutError(), 'timeout', null, null],
    ['anthropic timeout', new Anthropic.APIConnectionTimeoutError(), 'timeout', null, null],
    [
      'openai connection',
      new OpenAI.APIConnectionError({ message: 'reset' }),
      'server_error',
      null,
      null,
    ],
    ['invalid output', new InvalidModelOutputError('bad'), 'invalid_output', null, null],
  ])('%s', (_, err, outcome, retryAfterMs, requestId) => {
    const c = classifyProviderError(err);
    expect(c).toMatchObject({ outcome, retryAfterMs, providerRequestId: requestId });
  });

  it('leaves errors that are not provider failures to the caller', () => {
    expect(classifyProviderError(new TypeError('bug'))).toBeUndefined();
    expect(classifyProviderError('string')).toBeUndefined();
  });

  it('retries transient outcomes only', () => {
    expect([...RETRYABLE_OUTCOMES].sort()).toEqual(
      ['invalid_output', 'rate_limited', 'server_error', 'timeout'].sort(),
    );
    expect(RETRYABLE_OUTCOMES.has('refused')).toBe(false);
    expect(RETRYABLE_OUTCOMES.has('error')).toBe(false);
  });
});
