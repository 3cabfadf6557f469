import { z } from 'zod';

/**
 * A whole number from the environment. Unlike z.coerce, an empty or non-numeric value is an
 * error rather than a silent 0 (which would, for instance, switch the key cache off).
 */
function wholeNumber(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\s*\d+\s*$/, 'a whole number')
    .optional()
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .pipe(z.number().int().min(min).max(max));
}

/**
 * The LLM providers the platform can call. Each has its adapter in `providers/` (built by
 * `providers/registry.ts`), its settings below and an entry in the sub-processor registry.
 */
export const PROVIDERS = ['openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

const KEY_RING = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+$/;

/**
 * Every setting the functions read from the environment. Only endpoints differ between
 * production and the local stack: the official clients read FIRESTORE_EMULATOR_HOST,
 * PUBSUB_EMULATOR_HOST and FIREBASE_AUTH_EMULATOR_HOST themselves; the endpoints below are
 * absent in production, where each client uses Google's. A deployed instance refuses every
 * local-stack switch at cold start (`deployedSwitchProblems`).
 */
const EnvSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1),
  DOCUMENTS_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'a bucket name'),
  AUDIT_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'a bucket name'),
  EXTRACTION_TOPIC: z.string().min(1).default('extraction-requests'),
  KMS_KEY_RING: z.string().regex(KEY_RING, 'projects/P/locations/L/keyRings/R'),
  /** The platform's EC P-256 key version that signs evidence seals. */
  SEALING_KEY_VERSION: z
    .string()
    .regex(
      /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/\d+$/,
      'a Cloud KMS crypto key version name',
    ),
  /** Records committed within this many seconds of now are left for the next seal. */
  SEAL_SAFETY_SECONDS: wholeNumber(0, 3600, 60),
  /**
   * An unfinished extraction that has not moved for this long has lost its message: the
   * sealer's scheduled pass publishes it again (extraction/sweeper.ts). Longer than a worker
   * holds an extraction (model timeout times attempts), so a live run is rarely doubled; a
   * doubled one still ends once.
   */
  STUCK_EXTRACTION_SECONDS: wholeNumber(5, 86_400, 600),
  /** Evidence exports stay Locked this long (7 years); tenants may ask for more, never less. */
  EVIDENCE_RETENTION_DAYS: wholeNumber(1, 36_500, 2557),
  AUDIT_EXPORT_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]*$/, 'lowercase letters, digits, -')
    .default('evidence'),
  /** `http://host:port` speaks plaintext gRPC, `https://host[:port]` TLS; unset = Google's. */
  KMS_API_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** A Cloud Storage JSON API base URL; unset = Google's. */
  STORAGE_API_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().min(1),
  /**
   * The platform's default models. Each must be in its provider's capability table and not past
   * its announced end-of-life: `providers/registry.ts` refuses it at cold start otherwise.
   */
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  ANTHROPIC_BASE_URL: z.url().optional(),
  ANTHROPIC_API_KEY: z.string().min(1),
  ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
  DEFAULT_PROVIDER: z.enum(PROVIDERS).default('openai'),
  /** Secret Manager in production (mounted as an env var by the function), generated locally. */
  API_KEY_PEPPER: z.string().min(32, 'at least 32 characters'),
  /** How long an unwrapped tenant wrapping key stays in memory. */
  WRAPPING_KEY_CACHE_TTL_SECONDS: wholeNumber(0, 3600, 300),
  WRAPPING_KEY_CACHE_MAX_ENTRIES: wholeNumber(1, 100_000, 1000),
  /** Each instance's per-tenant quota; a tenant's plan may set its own (profile `quota`). */
  TENANT_REQUESTS_PER_MINUTE: wholeNumber(1, 1_000_000, 600),
  TENANT_REQUEST_BURST: wholeNumber(1, 100_000, 120),
  MAX_DOCUMENT_BYTES: wholeNumber(1, 1024 * 1024 * 1024, 20 * 1024 * 1024),
  /** PDFs with more pages are refused (422 too_many_pages) before any text is extracted. */
  MAX_PDF_PAGES: wholeNumber(1, 10_000, 50),
  LLM_TIMEOUT_MS: wholeNumber(100, 600_000, 60_000),
  LLM_MAX_RETRIES: wholeNumber(0, 10, 2),
  /**
   * The first attempt's output budget (within the model's own limit). An answer cut short at it
   * is retried once with four times as much, as far as the model's limit allows.
   */
  LLM_MAX_OUTPUT_TOKENS: wholeNumber(16, 1_000_000, 4096),
  /** Backoff between provider attempts: the first retry waits base/2..base, doubling to max. */
  LLM_RETRY_BASE_MS: wholeNumber(1, 60_000, 250),
  LLM_RETRY_MAX_BACKOFF_MS: wholeNumber(1, 300_000, 10_000),
  /** A provider's `retry-after` is honoured up to this many ms. */
  LLM_RETRY_AFTER_CAP_MS: wholeNumber(0, 300_000, 30_000),
  /** Extraction outcomes for webhook delivery (`{tenantId, extractionId, event}`). */
  NOTIFICATIONS_TOPIC: z.string().min(1).default('notifications'),
  /**
   * Local stack only (refused when deployed, see `deployedSwitchProblems`): lets webhooks target
   * loopback (and plain http on loopback). Every other private, link-local or metadata address
   * stays refused.
   */
  WEBHOOK_ALLOW_LOOPBACK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  WEBHOOK_TIMEOUT_MS: wholeNumber(100, 60_000, 10_000),
  /** Delivery attempts per endpoint and event, across in-function retries and redeliveries. */
  WEBHOOK_MAX_ATTEMPTS: wholeNumber(1, 50, 8),
  /** Break-glass access (access/): the longest grant an engineer may request. */
  ACCESS_MAX_DURATION_MINUTES: wholeNumber(1, 24 * 60, 240),
  /**
   * The security channel that hears of every break-glass request, decision and use (a signed
   * POST, as webhooks are signed); unset, the notices are log lines (`security_notice`) only.
   */
  SECURITY_CHANNEL_URL: z.url({ protocol: /^https?$/ }).optional(),
  SECURITY_CHANNEL_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /**
   * The SMTP relay of sub-processor notices (nodemailer's URL form: `smtps://user:pass@host:465`
   * for implicit TLS, `smtp://host:port` for plain SMTP, refused when deployed). Unset, nobody
   * can subscribe (503 `notices_unavailable`) and nothing is mailed.
   */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The sender of notice mails. */
  NOTICE_MAIL_FROM: z.email().default('notices@provenant.invalid'),
  /** The API's public base URL, for the links in notice mails (confirmation, objections). */
  PUBLIC_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The public trust page, linked from notice mails. */
  TRUST_PAGE_URL: z.url({ protocol: /^https?$/ }).optional(),
});

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * SDK log switches that print what a deployed function must never log: request and response
 * bodies (documents, prompts, model output) or credentials. Each maps to what is allowed.
 * - `OPENAI_LOG`, `ANTHROPIC_LOG`: the SDKs' `info` and `debug` levels log requests, `debug`
 *   with their bodies (openai `client.js`, @anthropic-ai/sdk `client.js`: `parseLogLevel(readEnv(…))`).
 * - `GRPC_VERBOSITY`/`GRPC_NODE_VERBOSITY` and `GRPC_TRACE`/`GRPC_NODE_TRACE`: grpc-js logging
 *   and tracers (@grpc/grpc-js `build/src/logging.js`), under Firestore, Pub/Sub and KMS.
 * - `GOOGLE_SDK_NODE_LOGGING`: the Google Cloud clients' request/response debug logging
 *   (google-logging-utils `env.nodeEnables`).
 * - `NODE_DEBUG`, `DEBUG`: Node's core debug log and the `debug` package some dependencies use.
 */
const DEBUG_SWITCHES: Readonly<Record<string, (value: string) => boolean>> = {
  OPENAI_LOG: (v) => ['off', 'error', 'warn'].includes(v.trim().toLowerCase()),
  ANTHROPIC_LOG: (v) => ['off', 'error', 'warn'].includes(v.trim().toLowerCase()),
  GRPC_VERBOSITY: (v) => ['ERROR', 'NONE'].includes(v.trim().toUpperCase()),
  GRPC_NODE_VERBOSITY: (v) => ['ERROR', 'NONE'].includes(v.trim().toUpperCase()),
  GRPC_TRACE: () => false,
  GRPC_NODE_TRACE: () => false,
  GOOGLE_SDK_NODE_LOGGING: () => false,
  NODE_DEBUG: () => false,
  DEBUG: () => false,
};

/** Endpoints the local stack points at its emulators over plain http. */
const ENDPOINTS = [
  'KMS_API_ENDPOINT',
  'STORAGE_API_ENDPOINT',
  'OPENAI_BASE_URL',
  'ANTHROPIC_BASE_URL',
] as const;

/**
 * The local stack's switches, refused when the function runs deployed. Cloud Run (which runs
 * Cloud Functions gen2) sets `K_SERVICE` in every instance
 * (https://cloud.google.com/run/docs/container-contract#env-vars); the local stack and the CLI
 * never do. The worst of them: with `FIREBASE_AUTH_EMULATOR_HOST` set, firebase-admin builds
 * its Auth in emulator mode and accepts unsigned ID tokens (`alg: none`) with any claims
 * (firebase-admin `lib/auth/base-auth.js` `emulatorMode`, `lib/utils/jwt.js`
 * `EmulatorSignatureVerifier`). Only set switches count: an empty value is as good as none.
 */
export function deployedSwitchProblems(env: NodeJS.ProcessEnv): string[] {
  if (!env.K_SERVICE) return [];
  const refused = 'a local-stack switch, refused when deployed (K_SERVICE is set)';
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (name.endsWith('_EMULATOR_HOST') && value) problems.push(`${name}: ${refused}`);
  }
  if (env.WEBHOOK_ALLOW_LOOPBACK === 'true') {
    problems.push(`WEBHOOK_ALLOW_LOOPBACK: ${refused}`);
  }
  for (const [name, allowed] of Object.entries(DEBUG_SWITCHES)) {
    const value = env[name];
    if (value && !allowed(value)) {
      problems.push(`${name}: an SDK debug log level, refused when deployed (K_SERVICE is set)`);
    }
  }
  // Deployed, the relay is reached over implicit TLS only: a plaintext SMTP leg would carry the
  // relay's credentials and the subscribers' addresses in clear.
  if (env.SMTP_URL && !env.SMTP_URL.startsWith('smtps://')) {
    problems.push('SMTP_URL: a plaintext SMTP relay, refused when deployed (K_SERVICE is set)');
  }
  for (const name of ENDPOINTS) {
    const value = env[name];
    if (value && !value.startsWith('https://')) {
      problems.push(`${name}: a plaintext endpoint, refused when deployed (K_SERVICE is set)`);
    }
  }
  return problems;
}

/**
 * Parses the environment; throws one ConfigError naming every bad variable, and, when running
 * deployed, every local-stack switch that is set (`deployedSwitchProblems`).
 */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = env[name];
        return value === undefined ? `${name}: missing` : `${name}: ${issue.message}`;
      });
  problems.push(...deployedSwitchProblems(env));
  if (parsed.success && parsed.data.SECURITY_CHANNEL_URL && !parsed.data.SECURITY_CHANNEL_SECRET)
    problems.push(
      'SECURITY_CHANNEL_SECRET: missing (SECURITY_CHANNEL_URL is set; notices are signed)',
    );
  if (parsed.success && parsed.data.SMTP_URL && !parsed.data.PUBLIC_API_URL)
    problems.push('PUBLIC_API_URL: missing (SMTP_URL is set; notice mails link to the API)');
  if (parsed.success && problems.length === 0) return parsed.data;
  throw new ConfigError(problems);
}

let cached: Config | undefined;

/** The process's config, parsed once at cold start. */
export function getConfig(): Config {
  cached ??= parseConfig();
  return cached;
}
