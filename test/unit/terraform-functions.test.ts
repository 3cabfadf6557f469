/**
 * The deployment agrees with the code: every function index.ts registers is deployed under its
 * entry point, every setting config.ts requires reaches every function, the resource names are
 * the ones the local stack provisions, and every log event an alert or the audit sink filters on
 * is one the code logs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../functions/src/config';
import {
  allResources,
  blocks,
  dig,
  isConditional,
  loadTerraform,
  moduleAt,
  ROOT,
  str,
  type Block,
  type TfModule,
} from './terraform-config';

const source = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

let mods: TfModule[];
let fnModule: TfModule;
let functions: Block[];

beforeAll(async () => {
  mods = await loadTerraform();
  fnModule = moduleAt(mods, 'modules/functions');
  functions = fnModule.resources.filter((r) => r.type === 'google_cloudfunctions2_function');
});

/** `functions.http('api', …)` and `functions.cloudEvent<…>('extractWorker', …)` in index.ts. */
function registeredFunctions(): string[] {
  const index = source('functions/src/index.ts');
  return [...index.matchAll(/functions\.(?:http|cloudEvent)(?:<[^>]*>)?\(\s*'([A-Za-z0-9]+)'/g)]
    .map((m) => m[1] ?? '')
    .sort();
}

function entryPoint(fn: Block): string {
  return str(dig(fn.body, 'build_config', 'entry_point')) ?? '';
}

/** The variables config.ts requires (no default): what parseConfig of nothing reports missing. */
function requiredSettings(): string[] {
  try {
    parseConfig({});
  } catch (err) {
    if (err instanceof ConfigError) {
      return err.problems
        .map((p) => /^([A-Z0-9_]+): missing$/.exec(p)?.[1])
        .filter((n): n is string => n !== undefined)
        .sort();
    }
    throw err;
  }
  throw new Error('parseConfig({}) accepted an empty environment');
}

/** Every key of config.ts's EnvSchema. */
function knownSettings(): Set<string> {
  const config = source('functions/src/config.ts');
  const schema = config.slice(config.indexOf('const EnvSchema = z.object({'));
  const body = schema.slice(0, schema.indexOf('\n});'));
  return new Set([...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] ?? ''));
}

/** The keys one function's environment_variables sets: the shared locals plus its own. */
function environmentKeys(fn: Block): string[] {
  const expression = str(dig(fn.body, 'service_config', 'environment_variables')) ?? '';
  expect(expression).toMatch(/^\$\{merge\(local\.environment, \{/);
  const own = [...expression.matchAll(/^\s+([A-Z][A-Z0-9_]+)\s+=/gm)].map((m) => m[1] ?? '');
  const shared = Object.keys(fnModule.locals.environment as Record<string, unknown>);
  return [...shared, ...own];
}

function secretKeys(fn: Block): string[] {
  return blocks(dig(fn.body, 'service_config', 'secret_environment_variables')).map(
    (s) => str(s.key) ?? '',
  );
}

describe('functions deployed against functions/src/index.ts', () => {
  it('deploys every function index.ts registers, under its entry point', () => {
    const registered = registeredFunctions();
    expect(registered).toEqual(
      expect.arrayContaining(['api', 'ops', 'extractWorker', 'sealer', 'notifier']),
    );
    const deployed = functions.filter((f) => !isConditional(f.body)).map(entryPoint);
    expect(deployed.sort()).toEqual(registered);
  });

  it('deploys no entry point the code lacks', () => {
    const registered = new Set(registeredFunctions());
    expect(registered.has('keyRotator')).toBe(true);
    for (const fn of functions)
      expect({ fn: fn.name, known: registered.has(entryPoint(fn)) }).toEqual({
        fn: fn.name,
        known: true,
      });
  });

  it('sets every variable config.ts requires on every function, from the environment or a secret', () => {
    const required = requiredSettings();
    // The ones without a default: the check below is about something.
    expect(required).toEqual(
      expect.arrayContaining(['API_KEY_PEPPER', 'DOCUMENTS_BUCKET', 'SEALING_KEY_VERSION']),
    );
    for (const fn of functions) {
      const env = environmentKeys(fn);
      const secrets = secretKeys(fn);
      expect({
        fn: fn.name,
        missing: required.filter((k) => !env.includes(k) && !secrets.includes(k)),
      }).toEqual({ fn: fn.name, missing: [] });
      // A value set twice would leave it to the platform which one wins.
      expect({ fn: fn.name, both: env.filter((k) => secrets.includes(k)) }).toEqual({
        fn: fn.name,
        both: [],
      });
    }
  });

  it('sets no variable config.ts does not read, and no local-only endpoint or switch', () => {
    const known = knownSettings();
    expect(known.size).toBeGreaterThan(20);
    for (const fn of functions) {
      for (const key of [...environmentKeys(fn), ...secretKeys(fn)]) {
        expect({ fn: fn.name, key, known: known.has(key) }).toEqual({
          fn: fn.name,
          key,
          known: true,
        });
        expect(key).not.toMatch(/EMULATOR_HOST|_API_ENDPOINT|_BASE_URL|WEBHOOK_ALLOW_LOOPBACK/);
      }
    }
  });

  it('gives a placeholder only for a secret the function does not read, and the placeholder passes config.ts', () => {
    const placeholder = str(fnModule.locals.not_provisioned) ?? '';
    const parsed = parseConfig({
      GOOGLE_CLOUD_PROJECT: 'provenant-production',
      DOCUMENTS_BUCKET: 'provenant-production-documents',
      AUDIT_BUCKET: 'provenant-production-audit',
      KMS_KEY_RING: 'projects/p/locations/europe-west3/keyRings/provenant',
      SEALING_KEY_VERSION:
        'projects/p/locations/europe-west3/keyRings/provenant/cryptoKeys/evidence-sealing/cryptoKeyVersions/1',
      API_KEY_PEPPER: placeholder,
      OPENAI_API_KEY: placeholder,
      ANTHROPIC_API_KEY: placeholder,
    });
    expect(parsed.API_KEY_PEPPER).toBe(placeholder);
    for (const fn of functions) {
      const expression = str(dig(fn.body, 'service_config', 'environment_variables')) ?? '';
      const placeheld = [
        ...expression.matchAll(/([A-Z][A-Z0-9_]+)\s+=\s+local\.not_provisioned/g),
      ].map((m) => m[1]);
      for (const key of placeheld) {
        expect(['API_KEY_PEPPER', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY']).toContain(key);
      }
    }
  });
});

describe('names shared with the local stack', () => {
  const stack = source('scripts/local/stack.ts');

  it('creates the topics the local stack provisions, with the same names', () => {
    const topics = Object.keys({
      ...(moduleAt(mods, 'modules/pubsub').locals.work_topics as Record<string, unknown>),
      ...(moduleAt(mods, 'modules/pubsub').locals.dead_letter_topics as Record<string, unknown>),
    });
    for (const key of [
      'extractionTopic',
      'extractionDeadLetterTopic',
      'sealTopic',
      'notificationsTopic',
    ]) {
      const local = new RegExp(`${key}: '([a-z-]+)'`).exec(stack)?.[1];
      expect({ key, local, deployed: topics.includes(local ?? '') }).toEqual({
        key,
        local,
        deployed: true,
      });
    }
  });

  it('names the key ring and the sealing key as the local stack does', () => {
    const kms = moduleAt(mods, 'modules/kms');
    const ring = kms.resources.find((r) => r.name === 'platform');
    const sealing = kms.resources.find((r) => r.name === 'evidence_sealing');
    expect(stack).toContain(`keyRings/${String(ring?.body.name)}`);
    expect(stack).toContain(`cryptoKeys/${String(sealing?.body.name)}/cryptoKeyVersions/1`);
    expect(dig(sealing?.body, 'version_template', 'algorithm')).toBe('EC_SIGN_P256_SHA256');
    expect(source('functions/src/crypto/kms.ts')).toContain("algorithm: 'EC_SIGN_P256_SHA256'");
  });

  it('pushes each topic to the function the local stack pushes it to', () => {
    const calls = fnModule.calls.filter((c) => c.target === 'modules/push-trigger');
    const pushes = Object.fromEntries(
      calls.map((c) => {
        const fn = /google_cloudfunctions2_function\.([a-z_]+)/.exec(
          str(c.body.function_name) ?? '',
        )?.[1];
        const entry = functions.find((f) => f.name === fn);
        return [str(c.body.subscription_name) ?? '', entry ? entryPoint(entry) : ''];
      }),
    );
    expect(pushes).toMatchObject({
      'extraction-requests-worker': 'extractWorker',
      'extraction-requests-dlq-worker': 'deadLetterWorker',
      'notifications-notifier': 'notifier',
      'seal-requests-sealer': 'sealer',
    });
    // The same subscriptions exist locally (scripts/local/stack.ts wirePushSubscriptions).
    for (const suffix of ['worker', 'sealer', 'notifier']) expect(stack).toContain(`-${suffix}\``);
  });
});

describe('log events that alerts and the audit sink rely on', () => {
  const logging = source('functions/src/logging.ts');
  const events = new Set([...logging.matchAll(/^ {2}([a-z_]+): '[A-Z]+',$/gm)].map((m) => m[1]));

  it('names only events functions/src/logging.ts defines', () => {
    expect(events.size).toBeGreaterThan(20);
    const filters = [
      ...allResources(mods, 'google_logging_metric').map((m) => str(m.body.filter) ?? ''),
      ...(moduleAt(mods, 'modules/audit-logs').locals.audit_events as string[]).map(
        (e) => `jsonPayload.event="${e}"`,
      ),
    ];
    const named = filters.flatMap((f) =>
      [...f.matchAll(/jsonPayload\.event="([a-z_]+)"/g)].map((m) => m[1]),
    );
    expect(named.length).toBeGreaterThan(10);
    for (const event of named)
      expect({ event, logged: events.has(event) }).toEqual({ event, logged: true });
  });

  it('has an alert for dead letters, seal lag, seal failures, break-glass grants and KMS errors', () => {
    const alerts = allResources(mods, 'google_monitoring_alert_policy').map((a) => a.name);
    expect(alerts.sort()).toEqual(
      ['break_glass_grants', 'dead_letter_depth', 'kms_errors', 'seal_failures', 'seal_lag'].sort(),
    );
    for (const alert of allResources(mods, 'google_monitoring_alert_policy')) {
      expect(alert.body.notification_channels).toBe('${local.channels}');
    }
  });

  it('alerts on every terminal dead-letter topic', () => {
    const pubsub = moduleAt(mods, 'modules/pubsub');
    const terminal = Object.keys(
      pubsub.locals.dead_letter_topics as Record<string, unknown>,
    ).filter((t) => t !== 'extraction-requests-dlq');
    const alert = allResources(mods, 'google_monitoring_alert_policy').find(
      (a) => a.name === 'dead_letter_depth',
    );
    const filters = JSON.stringify(alert?.body.conditions);
    for (const topic of terminal) expect(filters).toContain(`\\"${topic}\\"`);
    expect(filters).toContain('extraction-requests-dlq-worker');
  });
});
