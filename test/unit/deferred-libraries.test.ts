/**
 * A function's cold start and every CLI command load neither provider SDK nor the Pub/Sub
 * client library: they load on first use (providers/openai.ts, providers/anthropic.ts,
 * services.ts), since most processes never call a model or publish. Here each library is a
 * module that throws when it is loaded, so an eager import anywhere fails these tests, and the
 * first use is seen loading it.
 */

jest.mock('openai', () => {
  throw new Error('openai was loaded');
});
jest.mock('@anthropic-ai/sdk', () => {
  throw new Error('@anthropic-ai/sdk was loaded');
});
jest.mock('@google-cloud/pubsub', () => {
  throw new Error('@google-cloud/pubsub was loaded');
});

const ENV = {
  GOOGLE_CLOUD_PROJECT: 'provenant-test',
  DOCUMENTS_BUCKET: 'provenant-test-documents',
  AUDIT_BUCKET: 'provenant-test-audit',
  KMS_KEY_RING: 'projects/provenant-test/locations/europe-west1/keyRings/tenants',
  SEALING_KEY_VERSION:
    'projects/provenant-test/locations/europe-west1/keyRings/tenants/cryptoKeys/s/cryptoKeyVersions/1',
  OPENAI_API_KEY: 'sk-test-openai',
  ANTHROPIC_API_KEY: 'sk-ant-test',
  API_KEY_PEPPER: 'p'.repeat(32),
};

type Modules = {
  config: typeof import('../../functions/src/config');
  services: typeof import('../../functions/src/services');
  openai: typeof import('../../functions/src/providers/openai');
  anthropic: typeof import('../../functions/src/providers/anthropic');
};

function load(): Modules {
  let modules: Modules | undefined;
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports -- a fresh registry per test */
    modules = {
      config: require('../../functions/src/config') as Modules['config'],
      services: require('../../functions/src/services') as Modules['services'],
      openai: require('../../functions/src/providers/openai') as Modules['openai'],
      anthropic: require('../../functions/src/providers/anthropic') as Modules['anthropic'],
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
  if (modules === undefined) throw new Error('modules not loaded');
  return modules;
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

it("the functions' entry loads and builds its services without them (a cold start)", () => {
  Object.assign(process.env, ENV);
  expect(() => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../functions/src/index');
    });
  }).not.toThrow();
});

it('the CLI builds every command without them', () => {
  expect(() => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { buildProgram } = require('../../functions/src/cli/program') as {
        buildProgram: () => { commands: unknown[] };
      };
      expect(buildProgram().commands.length).toBeGreaterThan(5);
    });
  }).not.toThrow();
});

it('each is loaded on first use: a provider classifying an error, the first publish', async () => {
  const { config, services, openai, anthropic } = load();
  const built = services.createServices(config.parseConfig(ENV));
  try {
    expect(() => openai.classifyOpenAiError(new Error('x'))).toThrow('openai was loaded');
    expect(() => anthropic.classifyAnthropicError(new Error('x'))).toThrow(
      '@anthropic-ai/sdk was loaded',
    );
    expect(() => built.pubsub).toThrow('@google-cloud/pubsub was loaded');
  } finally {
    await built.close();
  }
});
