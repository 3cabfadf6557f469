// The layering of functions/src, checked by `npm run deps` (part of `npm run check` and CI).
// Lower layers never import higher ones, and no module imports one that imports it back:
//
//   foundation   config.ts, errors.ts, logging.ts, util/
//   evidence/    the evidence format, proofs and offline verification (what an auditor runs)
//   subprocessors/ the sub-processor registry: data (YAML + zod) the layers above read
//   adapters     tenancy/ (Firestore, identity), storage/, providers/ (LLM SDKs)
//   crypto/      envelope encryption, KMS, sealed objects
//   services.ts  the clients of one function instance
//   domain       ledger/ < webhooks/ < extraction/ < lifecycle/
//   access/      break-glass access: reads content through extraction/ and crypto/, records
//                through ledger/, notifies through webhooks/; only the entry points call it
//   entry points http/, cli/, index.ts
//
// docs/architecture.md draws the same picture.
const SRC = '^functions/src/';
const FOUNDATION = `${SRC}(config|errors|logging)\\.ts$|${SRC}util/`;
const EVIDENCE = `${SRC}evidence/`;
const SUBPROCESSORS = `${SRC}subprocessors/`;
const ADAPTERS = `${SRC}(tenancy|storage|providers)/`;
const CRYPTO = `${SRC}crypto/`;
const SERVICES = `${SRC}services\\.ts$`;
const ENTRY = `${SRC}(http|cli)/|${SRC}index\\.ts$`;

/** A rule that `from` may not import any of `to`. */
function layer(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: from }, to: { path: to } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import circle makes two modules one; split out what both need.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer(
      'foundation-imports-nothing-above',
      'config, errors, logging and util are the bottom layer.',
      FOUNDATION,
      `${SRC}(?!(config|errors|logging)\\.ts$|util/)`,
    ),
    layer(
      'evidence-is-self-contained',
      'The evidence format and its verifier run on an auditor machine with nothing but the export.',
      EVIDENCE,
      `${SRC}(?!evidence/|util/|errors\\.ts$)`,
    ),
    layer(
      'subprocessors-registry-is-data',
      'The sub-processor registry is data: the providers layer reads it to refuse a vendor not in ' +
        'force on the call date, the pipeline to name who processed a request, the CLI to check, ' +
        'diff and publish it. So it sits just above the foundation and imports nothing else of ours.',
      SUBPROCESSORS,
      `${SRC}(?!subprocessors/|(config|errors|logging)\\.ts$|util/)`,
    ),
    {
      name: 'evidence-needs-no-cloud-client',
      comment: 'Verification needs no Google, OpenAI or Anthropic client: only node and zod.',
      severity: 'error',
      from: { path: EVIDENCE },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'], pathNot: '/zod/' },
    },
    layer(
      'adapters-below-crypto-and-domain',
      'Data access, storage and provider adapters know nothing of keys, workflows or HTTP.',
      ADAPTERS,
      `${CRYPTO}|${SERVICES}|${SRC}(ledger|webhooks|extraction|lifecycle)/|${ENTRY}`,
    ),
    layer(
      'crypto-below-domain',
      'Envelope encryption is a port the domain uses, never the other way round.',
      CRYPTO,
      `${SERVICES}|${SRC}(ledger|webhooks|extraction|lifecycle)/|${ENTRY}`,
    ),
    layer(
      'services-below-domain',
      'services.ts builds clients; it calls no workflow.',
      SERVICES,
      `${SRC}(ledger|webhooks|extraction|lifecycle)/|${ENTRY}`,
    ),
    layer(
      'ledger-below-workflows',
      'Writing and sealing evidence serves every workflow and depends on none.',
      `${SRC}ledger/`,
      `${SRC}(webhooks|extraction|lifecycle)/|${ENTRY}`,
    ),
    layer(
      'webhooks-below-extraction',
      'Webhooks announce outcomes; they do not reach into the pipeline.',
      `${SRC}webhooks/`,
      `${SRC}(extraction|lifecycle)/|${ENTRY}`,
    ),
    layer(
      'extraction-below-lifecycle',
      'The extraction pipeline knows nothing of onboarding, offboarding or key rotation.',
      `${SRC}extraction/`,
      `${SRC}lifecycle/|${ENTRY}`,
    ),
    layer(
      'lifecycle-below-entry-points',
      'Tenant workflows are called by the API, the CLI and triggers, never the reverse.',
      `${SRC}lifecycle/`,
      ENTRY,
    ),
    layer(
      'access-above-the-domain',
      'Break-glass access uses the domain to read and record; no workflow depends on it.',
      `${SRC}(?!access/|http/|cli/|index\\.ts$)`,
      `${SRC}access/`,
    ),
    layer(
      'access-below-entry-points',
      'Break-glass access is called by the ops and api routes and the CLI, never the reverse.',
      `${SRC}access/`,
      ENTRY,
    ),
    layer(
      'http-and-cli-are-separate-entry-points',
      'The API and the CLI share domain modules, not each other.',
      `${SRC}http/`,
      `${SRC}cli/|${SRC}index\\.ts$`,
    ),
    layer(
      'cli-is-an-entry-point',
      'The CLI shares domain modules with the API, not its routes.',
      `${SRC}cli/`,
      `${SRC}http/|${SRC}index\\.ts$`,
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^build/' },
  },
};
