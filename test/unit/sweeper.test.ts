/**
 * Lost extraction messages (resilience finding: a push refused while the worker restarted was
 * never retried, and the extraction stayed `queued`/`processing` for good): which extractions
 * the sweep calls stuck and publishes again.
 */
import { parseConfig } from '../../functions/src/config';
import { stuckSeconds } from '../../functions/src/extraction/sweeper';

const NOW = new Date('2026-11-30T06:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

describe('stuck extractions (messages lost after a worker crash)', () => {
  it.each(['queued', 'processing'])(
    'a %s extraction idle past the threshold is stuck, for how long it has been idle',
    (status) => {
      expect(stuckSeconds({ status, updatedAt: ago(600) }, NOW, 600)).toBe(600);
      expect(stuckSeconds({ status, updatedAt: ago(3600.5) }, NOW, 600)).toBe(3600);
    },
  );

  it.each(['queued', 'processing'])(
    'a %s extraction that moved within the threshold is left alone (a worker may hold it)',
    (status) => {
      expect(stuckSeconds({ status, updatedAt: ago(599) }, NOW, 600)).toBeUndefined();
      // A clock behind the commit time is not stuck either.
      expect(stuckSeconds({ status, updatedAt: ago(-5) }, NOW, 600)).toBeUndefined();
    },
  );

  it.each(['succeeded', 'failed', undefined, 'erased'])(
    'a finished (or unknown: %s) extraction is never re-queued, however old',
    (status) => {
      expect(stuckSeconds({ status, updatedAt: ago(86_400) }, NOW, 600)).toBeUndefined();
    },
  );

  it('an extraction without a readable updatedAt is not re-queued on a guess', () => {
    expect(stuckSeconds({ status: 'queued' }, NOW, 600)).toBeUndefined();
    expect(stuckSeconds({ status: 'queued', updatedAt: 'yesterday' }, NOW, 600)).toBeUndefined();
    expect(stuckSeconds({ status: 'queued', updatedAt: 1 }, NOW, 600)).toBeUndefined();
  });
});

describe('STUCK_EXTRACTION_SECONDS', () => {
  const env = {
    GOOGLE_CLOUD_PROJECT: 'provenant-test',
    DOCUMENTS_BUCKET: 'provenant-test-documents',
    AUDIT_BUCKET: 'provenant-test-audit',
    KMS_KEY_RING: 'projects/provenant-test/locations/europe-west1/keyRings/tenants',
    OPENAI_API_KEY: 'sk-test-openai',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    API_KEY_PEPPER: 'p'.repeat(32),
    SEALING_KEY_VERSION:
      'projects/provenant-test/locations/europe-west1/keyRings/tenants/cryptoKeys/evidence-sealing/cryptoKeyVersions/1',
  };

  it('defaults to 10 minutes and takes the local stack its own value through the same variable', () => {
    expect(parseConfig(env).STUCK_EXTRACTION_SECONDS).toBe(600);
    expect(parseConfig({ ...env, STUCK_EXTRACTION_SECONDS: '20' }).STUCK_EXTRACTION_SECONDS).toBe(
      20,
    );
  });

  it.each(['0', '4', '', 'ten', '86401'])(
    'refuses %j: a sweep that would re-queue live work at once, or never',
    (value) => {
      expect(() => parseConfig({ ...env, STUCK_EXTRACTION_SECONDS: value })).toThrow(
        /STUCK_EXTRACTION_SECONDS/,
      );
    },
  );
});
