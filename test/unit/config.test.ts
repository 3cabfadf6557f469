import { ConfigError, parseConfig } from '../../functions/src/config';

const PEPPER = 'p'.repeat(32);
const SEALING_KEY =
  'projects/provenant-test/locations/europe-west1/keyRings/tenants/cryptoKeys/evidence-sealing/cryptoKeyVersions/1';

/** Every required variable, and nothing that has a default. */
function validEnv(): NodeJS.ProcessEnv {
  return {
    GOOGLE_CLOUD_PROJECT: 'provenant-test',
    DOCUMENTS_BUCKET: 'provenant-test-documents',
    AUDIT_BUCKET: 'provenant-test-audit',
    KMS_KEY_RING: 'projects/provenant-test/locations/europe-west1/keyRings/tenants',
    OPENAI_API_KEY: 'sk-test-openai',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    API_KEY_PEPPER: PEPPER,
    SEALING_KEY_VERSION: SEALING_KEY,
  };
}

/** The ConfigError thrown for `env`, or a failure when none is thrown. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('parseConfig accepted an invalid environment');
}

describe('parseConfig', () => {
  it('parses a complete valid environment and applies every default', () => {
    expect(parseConfig(validEnv())).toEqual({
      GOOGLE_CLOUD_PROJECT: 'provenant-test',
      DOCUMENTS_BUCKET: 'provenant-test-documents',
      AUDIT_BUCKET: 'provenant-test-audit',
      EXTRACTION_TOPIC: 'extraction-requests',
      KMS_KEY_RING: 'projects/provenant-test/locations/europe-west1/keyRings/tenants',
      OPENAI_API_KEY: 'sk-test-openai',
      OPENAI_MODEL: 'gpt-4o-mini',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_MODEL: 'claude-sonnet-5-5',
      DEFAULT_PROVIDER: 'openai',
      API_KEY_PEPPER: PEPPER,
      WRAPPING_KEY_CACHE_TTL_SECONDS: 300,
      WRAPPING_KEY_CACHE_MAX_ENTRIES: 1000,
      MAX_DOCUMENT_BYTES: 20 * 1024 * 1024,
      LLM_TIMEOUT_MS: 60_000,
      LLM_MAX_RETRIES: 2,
      LLM_MAX_OUTPUT_TOKENS: 4096,
      SEALING_KEY_VERSION: SEALING_KEY,
      SEAL_SAFETY_SECONDS: 60,
      STUCK_EXTRACTION_SECONDS: 600,
      EVIDENCE_RETENTION_DAYS: 2557,
      AUDIT_EXPORT_PREFIX: 'evidence',
      MAX_PDF_PAGES: 50,
      NOTICE_MAIL_FROM: 'notices@provenant.invalid',
      TENANT_REQUESTS_PER_MINUTE: 600,
      TENANT_REQUEST_BURST: 120,
      LLM_RETRY_BASE_MS: 250,
      LLM_RETRY_MAX_BACKOFF_MS: 10_000,
      LLM_RETRY_AFTER_CAP_MS: 30_000,
      NOTIFICATIONS_TOPIC: 'notifications',
      WEBHOOK_ALLOW_LOOPBACK: false,
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_MAX_ATTEMPTS: 8,
      ACCESS_MAX_DURATION_MINUTES: 240,
    });
  });

  it('keeps explicit values over defaults, including the local endpoints', () => {
    const config = parseConfig({
      ...validEnv(),
      EXTRACTION_TOPIC: 'other-topic',
      OPENAI_MODEL: 'gpt-4.1',
      DEFAULT_PROVIDER: 'anthropic',
      KMS_API_ENDPOINT: 'http://127.0.0.1:8085',
      STORAGE_API_ENDPOINT: 'http://127.0.0.1:9199',
      OPENAI_BASE_URL: 'http://127.0.0.1:8090/v1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8090',
    });
    expect(config.EXTRACTION_TOPIC).toBe('other-topic');
    expect(config.OPENAI_MODEL).toBe('gpt-4.1');
    expect(config.DEFAULT_PROVIDER).toBe('anthropic');
    expect(config.KMS_API_ENDPOINT).toBe('http://127.0.0.1:8085');
    expect(config.STORAGE_API_ENDPOINT).toBe('http://127.0.0.1:9199');
    expect(config.OPENAI_BASE_URL).toBe('http://127.0.0.1:8090/v1');
    expect(config.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:8090');
  });

  it('leaves the optional endpoints undefined when unset (Google defaults)', () => {
    const config = parseConfig(validEnv());
    expect(config.KMS_API_ENDPOINT).toBeUndefined();
    expect(config.STORAGE_API_ENDPOINT).toBeUndefined();
    expect(config.OPENAI_BASE_URL).toBeUndefined();
    expect(config.ANTHROPIC_BASE_URL).toBeUndefined();
  });

  it('coerces numeric variables from their string form', () => {
    const config = parseConfig({
      ...validEnv(),
      WRAPPING_KEY_CACHE_TTL_SECONDS: '0',
      WRAPPING_KEY_CACHE_MAX_ENTRIES: '25',
      MAX_DOCUMENT_BYTES: '1048576',
      LLM_TIMEOUT_MS: '100',
      LLM_MAX_RETRIES: '10',
    });
    expect(config.WRAPPING_KEY_CACHE_TTL_SECONDS).toBe(0);
    expect(config.WRAPPING_KEY_CACHE_MAX_ENTRIES).toBe(25);
    expect(config.MAX_DOCUMENT_BYTES).toBe(1_048_576);
    expect(config.LLM_TIMEOUT_MS).toBe(100);
    expect(config.LLM_MAX_RETRIES).toBe(10);
  });

  it.each([
    ['WRAPPING_KEY_CACHE_TTL_SECONDS', '3601'],
    ['WRAPPING_KEY_CACHE_TTL_SECONDS', '-1'],
    ['WRAPPING_KEY_CACHE_TTL_SECONDS', '1.5'],
    ['WRAPPING_KEY_CACHE_MAX_ENTRIES', '0'],
    ['WRAPPING_KEY_CACHE_MAX_ENTRIES', '100001'],
    ['MAX_DOCUMENT_BYTES', 'twenty megabytes'],
    ['LLM_TIMEOUT_MS', '99'],
    ['LLM_MAX_RETRIES', '11'],
  ])('rejects %s=%s', (name, value) => {
    const error = configError({ ...validEnv(), [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(error.problems[0]).not.toBe(`${name}: missing`);
  });

  it('names every bad or missing variable in one ConfigError', () => {
    const env = validEnv();
    delete env.OPENAI_API_KEY;
    env.KMS_KEY_RING = 'projects/provenant-test/keyRings/tenants';
    env.API_KEY_PEPPER = 'too-short-pepper';

    const error = configError(env);

    expect(error.name).toBe('ConfigError');
    expect([...error.problems].sort()).toEqual([
      'API_KEY_PEPPER: at least 32 characters',
      'KMS_KEY_RING: projects/P/locations/L/keyRings/R',
      'OPENAI_API_KEY: missing',
    ]);
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  it('reports every missing required variable of an empty environment', () => {
    const error = configError({});
    expect([...error.problems].sort()).toEqual([
      'ANTHROPIC_API_KEY: missing',
      'API_KEY_PEPPER: missing',
      'AUDIT_BUCKET: missing',
      'DOCUMENTS_BUCKET: missing',
      'GOOGLE_CLOUD_PROJECT: missing',
      'KMS_KEY_RING: missing',
      'OPENAI_API_KEY: missing',
      'SEALING_KEY_VERSION: missing',
    ]);
  });

  it('never echoes a rejected secret value into the error', () => {
    const error = configError({ ...validEnv(), API_KEY_PEPPER: 'secret-pepper-value' });
    expect(error.message).not.toContain('secret-pepper-value');
    expect(error.problems.join('\n')).not.toContain('secret-pepper-value');
  });

  it.each(['not a url', 'localhost:9199', 'ftp://storage.example.com', '/upload/storage/v1'])(
    'rejects STORAGE_API_ENDPOINT=%s',
    (value) => {
      const error = configError({ ...validEnv(), STORAGE_API_ENDPOINT: value });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^STORAGE_API_ENDPOINT: /);
    },
  );

  it.each([
    ['DOCUMENTS_BUCKET', 'Provenant_Documents'],
    ['AUDIT_BUCKET', 'ab'],
    ['DEFAULT_PROVIDER', 'gemini'],
    ['KMS_API_ENDPOINT', 'grpc://127.0.0.1:8085'],
    ['GOOGLE_CLOUD_PROJECT', ''],
  ])('rejects %s=%j', (name, value) => {
    const error = configError({ ...validEnv(), [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it.each(['WRAPPING_KEY_CACHE_TTL_SECONDS', 'LLM_MAX_RETRIES', 'MAX_DOCUMENT_BYTES'])(
    'rejects an empty %s instead of reading it as 0',
    (name) => {
      const error = configError({ ...validEnv(), [name]: '' });
      expect(error.problems).toEqual([`${name}: a whole number`]);
    },
  );
});

/** Finding 9 of issue 10: test-only switches reachable in production. */
describe('a deployed instance (K_SERVICE set) refuses every local-stack switch at cold start', () => {
  const deployed = (): NodeJS.ProcessEnv => ({
    ...validEnv(),
    K_SERVICE: 'api',
    K_REVISION: 'api-00042',
  });

  it('starts with a clean deployed environment, quiet log levels and https endpoints', () => {
    const config = parseConfig({
      ...deployed(),
      OPENAI_LOG: 'warn',
      ANTHROPIC_LOG: 'off',
      GRPC_VERBOSITY: 'ERROR',
      KMS_API_ENDPOINT: 'https://europe-west1-cloudkms.googleapis.com',
      WEBHOOK_ALLOW_LOOPBACK: 'false',
      // Set but empty is as good as unset.
      FIRESTORE_EMULATOR_HOST: '',
    });
    expect(config.WEBHOOK_ALLOW_LOOPBACK).toBe(false);
  });

  it.each([
    ['FIREBASE_AUTH_EMULATOR_HOST', '127.0.0.1:9099', 'a local-stack switch'],
    ['FIRESTORE_EMULATOR_HOST', '127.0.0.1:8080', 'a local-stack switch'],
    ['PUBSUB_EMULATOR_HOST', '127.0.0.1:8085', 'a local-stack switch'],
    ['STORAGE_EMULATOR_HOST', 'http://127.0.0.1:9199', 'a local-stack switch'],
    ['FIREBASE_STORAGE_EMULATOR_HOST', '127.0.0.1:9199', 'a local-stack switch'],
    ['WEBHOOK_ALLOW_LOOPBACK', 'true', 'a local-stack switch'],
    ['OPENAI_LOG', 'debug', 'an SDK debug log level'],
    ['OPENAI_LOG', 'info', 'an SDK debug log level'],
    ['ANTHROPIC_LOG', 'debug', 'an SDK debug log level'],
    ['GRPC_VERBOSITY', 'DEBUG', 'an SDK debug log level'],
    ['GRPC_NODE_VERBOSITY', 'info', 'an SDK debug log level'],
    ['GRPC_TRACE', 'all', 'an SDK debug log level'],
    ['GRPC_NODE_TRACE', 'channel', 'an SDK debug log level'],
    ['GOOGLE_SDK_NODE_LOGGING', '*', 'an SDK debug log level'],
    ['NODE_DEBUG', 'http', 'an SDK debug log level'],
    ['DEBUG', '*', 'an SDK debug log level'],
    ['KMS_API_ENDPOINT', 'http://127.0.0.1:9011', 'a plaintext endpoint'],
    ['STORAGE_API_ENDPOINT', 'http://127.0.0.1:4443', 'a plaintext endpoint'],
    ['OPENAI_BASE_URL', 'http://127.0.0.1:4010/v1', 'a plaintext endpoint'],
    ['ANTHROPIC_BASE_URL', 'http://127.0.0.1:4010', 'a plaintext endpoint'],
  ])('refuses %s=%s, naming it (and not its value)', (name, value, kind) => {
    const error = configError({ ...deployed(), [name]: value });
    expect(error.problems).toEqual([`${name}: ${kind}, refused when deployed (K_SERVICE is set)`]);
  });

  it('names every switch of the local stack at once', () => {
    const error = configError({
      ...deployed(),
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080',
      FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      KMS_API_ENDPOINT: 'http://127.0.0.1:9011',
    });
    expect(error.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'FIREBASE_AUTH_EMULATOR_HOST',
      'FIRESTORE_EMULATOR_HOST',
      'KMS_API_ENDPOINT',
      'WEBHOOK_ALLOW_LOOPBACK',
    ]);
  });

  it('leaves the same switches alone off Cloud Run (the local stack, the CLI)', () => {
    const config = parseConfig({
      ...validEnv(),
      FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      OPENAI_LOG: 'debug',
      KMS_API_ENDPOINT: 'http://127.0.0.1:9011',
    });
    expect(config.WEBHOOK_ALLOW_LOOPBACK).toBe(true);
  });
});
