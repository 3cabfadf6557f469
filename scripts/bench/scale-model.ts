/**
 * The scale model behind docs/scale.md: `npm run scale` prints every figure the document quotes.
 *
 * It is arithmetic over two kinds of input, kept apart so each can be checked:
 * - what one extraction costs, counted from the code (the `PER_EXTRACTION` table names the file
 *   of every write, message and key call), and
 * - the published limits of the managed services (`LIMITS`, each with the page it comes from).
 * The workload (tenants, volume, skew, daily curve) is a parameter; `--per-day`, `--tenants`,
 * `--hot-share` and `--peak` change it. The sealer is simulated minute by minute over a day,
 * because its backlog depends on the order of events, not only on averages.
 */

/** Published limits. Each one is a documented figure, not a measurement of ours. */
export const LIMITS = {
  /** https://firebase.google.com/docs/firestore/solutions/shard-timestamp — per collection (per
   *  index range) with a monotonically increasing indexed field. */
  firestoreSequentialWritesPerSecond: 500,
  /** https://cloud.google.com/firestore/docs/best-practices — sustained writes to one document. */
  firestoreWritesPerDocumentPerSecond: 1,
  /** https://cloud.google.com/storage/docs/request-rate — initial bucket capacity before
   *  auto-scaling (it grows with gradual ramp-up). */
  gcsWritesPerSecondPerBucket: 1000,
  /** https://cloud.google.com/kms/quotas — "Cryptographic requests" default per calling project
   *  and region, in queries per minute (encrypt, decrypt, asymmetricSign, getPublicKey). */
  kmsCryptoPerMinute: 60_000,
  /** https://cloud.google.com/kms/quotas — "Read requests" (get/list of keys and versions). */
  kmsReadsPerMinute: 300,
  /** Cloud Run functions (gen2) event-driven timeout: 540 s. The sealer's pass must fit. */
  sealerTimeoutSeconds: 540,
  /** Ours, not Google's: terraform/envs/production/main.tf instances.extract_worker.max. */
  productionWorkerInstances: 50,
} as const;

/**
 * What one extraction costs today, read from the code (8 writes: 3 at submit, 1 at claim, 4 at
 * commit). `sequential` counts, per collection, the writes that put a monotonically increasing
 * value (a commit time or submit time) into an automatically indexed field.
 */
export const PER_EXTRACTION = {
  firestoreWrites: {
    // extraction/submit.ts: dataKeys + documents + extractions in one transaction.
    submit: 3,
    // extraction/pipeline.ts claim(): status → processing.
    claim: 1,
    // extraction/pipeline.ts writeResult(): evidence + 2 dataKeys + the extraction.
    commit: 4,
  },
  sequential: {
    // createdAt/updatedAt/submittedAt at submit, updatedAt at claim and at commit.
    extractions: 3,
    // createdAt on the document key, the raw-response key and the result key.
    dataKeys: 3,
    documents: 1,
    evidence: 1,
  },
  /** Only these sequential fields are read by a query (extraction/listing.ts orders by
   *  submittedAt; ledger/sealer.ts and cli/audit/query.ts range over evidence createdAt); the
   *  others can be exempted from indexing, which leaves one sequential write per collection. */
  sequentialAfterExemptions: { extractions: 1, dataKeys: 0, documents: 0, evidence: 1 },
  // extraction/submit.ts publishes the job; webhooks/events.ts the outcome.
  pubsubMessages: 2,
  pubsubMessageBytes: 600,
  // The original, the raw response and the result: three objects in the documents bucket.
  objectWrites: 3,
  // One exported line per record (evidence/seal.ts exportLine), measured on the e2e invoice.
  exportLineBytes: 1_600,
} as const;

export interface Workload {
  tenants: number;
  perDay: number;
  /** Share of all traffic from the largest tenant. */
  hotShare: number;
  /** Zipf exponent of the other tenants' shares. */
  zipf: number;
  /** Busiest minute of the day over the day's mean rate. */
  peakToMean: number;
  /** Seconds a worker request is held: model latency plus our own work. */
  workerSeconds: number;
  /** Worker requests per instance (terraform: max_instance_request_concurrency of extractWorker). */
  workerConcurrency: number;
  /** Wrapping-key cache TTL (config WRAPPING_KEY_CACHE_TTL_SECONDS). */
  keyCacheSeconds: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  tenants: 1000,
  perDay: 10_000_000,
  hotShare: 0.4,
  zipf: 1.0,
  peakToMean: 4,
  workerSeconds: 10,
  workerConcurrency: 8,
  keyCacheSeconds: 300,
};

/** Traffic shares: the hot tenant, then the rest by Zipf, summing to 1. */
export function tenantShares(w: Workload): number[] {
  const rest = w.tenants - 1;
  const weights = Array.from({ length: rest }, (_, i) => 1 / Math.pow(i + 1, w.zipf));
  const total = weights.reduce((a, b) => a + b, 0);
  return [w.hotShare, ...weights.map((x) => ((1 - w.hotShare) * x) / total)];
}

/**
 * Minute weights over a day with mean 1 and the given peak: a business-day curve (low at night,
 * a broad plateau in working hours) scaled so its largest minute is `peakToMean`.
 */
export function dailyCurve(peakToMean: number): number[] {
  const minutes = 24 * 60;
  // Working hours around 13:00 UTC at full height, shoulders either side, a floor at night.
  const raw = Array.from({ length: minutes }, (_, m) => {
    const h = m / 60;
    return 0.05 + Math.exp(-Math.pow((h - 13) / 4, 4));
  });
  // raw^a normalised to mean 1: a = 0 is flat, and the peak grows with a without bound, so
  // a bisection finds the exponent whose peak is the one asked for.
  const shaped = (a: number): number[] => {
    const powered = raw.map((x) => Math.pow(x, a));
    const mean = powered.reduce((x, y) => x + y, 0) / minutes;
    return powered.map((x) => x / mean);
  };
  let low = 0;
  let high = 64;
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (Math.max(...shaped(mid)) < peakToMean) low = mid;
    else high = mid;
  }
  return shaped((low + high) / 2);
}

export interface SealerDesign {
  name: string;
  /** Minutes between passes (terraform seal_schedule). */
  everyMinutes: number;
  /** Records per seal (ledger/sealer.ts MAX_BATCH). */
  maxBatch: number;
  /** Seals one tenant may make in one pass (1 today: one seal per tenant per pass). */
  sealsPerPass: number;
  /** Tenants sealed at once. */
  parallelTenants: number;
}

/** Seconds one seal takes: fixed round trips plus reading and exporting its records. */
export function sealSeconds(records: number): number {
  // latestSeal query, isExported (2 object HEADs), the window query, intent create, KMS sign,
  // seal create, two object writes: about ten round trips of ~25 ms; then reading the records
  // (~2 KB each, ~40 MB/s from Firestore) and uploading the export (~100 MB/s).
  const fixed = 10 * 0.025;
  return fixed + (records * 2_000) / 40e6 + (records * PER_EXTRACTION.exportLineBytes) / 100e6;
}

export interface SealerRun {
  design: string;
  maxBacklog: number;
  endBacklog: number;
  maxLagMinutes: number;
  longestPassSeconds: number;
}

/**
 * The hot tenant's unsealed records, minute by minute over a week (the other tenants only cost
 * pass time). Records wait in arrival order, so the lag is the age of the oldest unsealed one.
 */
export function simulateSealer(w: Workload, d: SealerDesign): SealerRun {
  const curve = dailyCurve(w.peakToMean);
  const shares = tenantShares(w);
  const hotPerMinute = (w.perDay * w.hotShare) / (24 * 60);
  const otherSeconds = shares
    .slice(1)
    .map((s) => sealSeconds((w.perDay * s * d.everyMinutes) / (24 * 60)))
    .reduce((a, b) => a + b, 0);
  const waiting: { minute: number; count: number }[] = [];
  let backlog = 0;
  let maxBacklog = 0;
  let maxLag = 0;
  let longestPass = 0;
  // A week: a design that falls behind shows it as a backlog that carries over day to day.
  for (let minute = 0; minute < 7 * curve.length; minute++) {
    const arrived = hotPerMinute * (curve[minute % curve.length] ?? 0);
    waiting.push({ minute, count: arrived });
    backlog += arrived;
    if (minute % d.everyMinutes !== 0) continue;
    // The hot tenant's seals run back to back in one lane; the others share `parallelTenants`.
    const hotSeals = Math.min(d.sealsPerPass, Math.ceil(backlog / d.maxBatch));
    let toSeal = Math.min(backlog, hotSeals * d.maxBatch);
    longestPass = Math.max(
      longestPass,
      hotSeals * sealSeconds(d.maxBatch),
      otherSeconds / d.parallelTenants,
    );
    backlog -= toSeal;
    while (toSeal > 0 && waiting.length > 0) {
      const first = waiting[0];
      if (!first) break;
      const take = Math.min(first.count, toSeal);
      first.count -= take;
      toSeal -= take;
      if (first.count <= 1e-9) waiting.shift();
    }
    maxBacklog = Math.max(maxBacklog, backlog);
    const oldest = waiting[0];
    // A record is sealed at the first pass after it arrives at best.
    const lag = oldest && backlog > 1 ? minute - oldest.minute + d.everyMinutes : d.everyMinutes;
    maxLag = Math.max(maxLag, lag);
  }
  return {
    design: d.name,
    maxBacklog: Math.round(maxBacklog),
    endBacklog: Math.round(backlog),
    maxLagMinutes: Math.round(maxLag),
    longestPassSeconds: Math.round(longestPass),
  };
}

/** Tenants a pass can visit one after another within the sealer's timeout. */
export function serialTenantCeiling(): number {
  return Math.floor(LIMITS.sealerTimeoutSeconds / sealSeconds(0));
}

export const SEALER_TODAY: SealerDesign = {
  name: 'before: one seal per tenant per pass, tenants in turn',
  everyMinutes: 5,
  maxBatch: 10_000,
  sealsPerPass: 1,
  parallelTenants: 1,
};

export const SEALER_CATCH_UP: SealerDesign = {
  name: 'catch-up: seals until the window is empty, 16 tenants at once',
  everyMinutes: 5,
  maxBatch: 10_000,
  sealsPerPass: 40,
  parallelTenants: 16,
};

export interface Row {
  what: string;
  load: number;
  limit: number;
  unit: string;
}

/** Peak loads against limits, for the given workload. */
export function loads(w: Workload): Row[] {
  const meanPerSecond = w.perDay / 86_400;
  const peakPerSecond = meanPerSecond * w.peakToMean;
  const hotPeak = peakPerSecond * w.hotShare;
  const seq = PER_EXTRACTION.sequential;
  const seqAfter = PER_EXTRACTION.sequentialAfterExemptions;
  const writes =
    PER_EXTRACTION.firestoreWrites.submit +
    PER_EXTRACTION.firestoreWrites.claim +
    PER_EXTRACTION.firestoreWrites.commit;
  const inFlight = peakPerSecond * w.workerSeconds;
  // KMS: each worker instance unwraps each tenant's wrapping key at most once per TTL. With
  // Pub/Sub spreading jobs over instances, an instance sees tenant t in a TTL window with
  // probability 1 - (1 - share_t)^(jobs per instance per window).
  const instances = Math.ceil(inFlight / w.workerConcurrency);
  const jobsPerInstanceWindow = (peakPerSecond / instances) * w.keyCacheSeconds;
  const seen = tenantShares(w)
    .map((s) => 1 - Math.pow(1 - s, jobsPerInstanceWindow))
    .reduce((a, b) => a + b, 0);
  const unwrapsPerMinute = ((instances * seen) / w.keyCacheSeconds) * 60;
  // API instances unwrap too (submit seals the original under the tenant's key): same bound.
  const kmsPerMinute = Math.min(2 * unwrapsPerMinute, 2 * peakPerSecond * 60);
  return [
    {
      what: 'hot tenant: extractions collection, sequential index writes (before)',
      load: hotPeak * seq.extractions,
      limit: LIMITS.firestoreSequentialWritesPerSecond,
      unit: 'writes/s',
    },
    {
      what: 'hot tenant: dataKeys collection, sequential index writes (before)',
      load: hotPeak * seq.dataKeys,
      limit: LIMITS.firestoreSequentialWritesPerSecond,
      unit: 'writes/s',
    },
    {
      what: 'hot tenant: extractions, after index exemptions',
      load: hotPeak * seqAfter.extractions,
      limit: LIMITS.firestoreSequentialWritesPerSecond,
      unit: 'writes/s',
    },
    {
      what: 'hot tenant: evidence createdAt (sealer window queries need it)',
      load: hotPeak * seqAfter.evidence,
      limit: LIMITS.firestoreSequentialWritesPerSecond,
      unit: 'writes/s',
    },
    {
      what: 'all tenants: Firestore document writes',
      load: peakPerSecond * writes,
      limit: Number.POSITIVE_INFINITY,
      unit: 'writes/s',
    },
    {
      what: `extractWorker instances at concurrency ${String(w.workerConcurrency)} (production max)`,
      load: instances,
      limit: LIMITS.productionWorkerInstances,
      unit: 'instances',
    },
    {
      what: 'KMS cryptographic requests (wrapping-key unwraps, worst case)',
      load: kmsPerMinute,
      limit: LIMITS.kmsCryptoPerMinute,
      unit: 'per minute',
    },
    {
      what: 'documents bucket object writes',
      load: peakPerSecond * PER_EXTRACTION.objectWrites,
      limit: LIMITS.gcsWritesPerSecondPerBucket,
      unit: 'writes/s',
    },
    {
      what: 'Pub/Sub publish volume',
      load:
        (peakPerSecond * PER_EXTRACTION.pubsubMessages * PER_EXTRACTION.pubsubMessageBytes) / 1e6,
      limit: Number.POSITIVE_INFINITY,
      unit: 'MB/s',
    },
  ];
}

/** Largest hot-tenant volume per day before its sequential evidence index reaches the limit. */
export function hotTenantCeilingPerDay(w: Workload, sequentialWrites: number): number {
  return (LIMITS.firestoreSequentialWritesPerSecond / sequentialWrites / w.peakToMean) * 86_400;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(1);
}

function parseArgs(argv: string[]): Workload {
  const w = { ...DEFAULT_WORKLOAD };
  const keys: Record<string, keyof Workload> = {
    '--per-day': 'perDay',
    '--tenants': 'tenants',
    '--hot-share': 'hotShare',
    '--peak': 'peakToMean',
    '--worker-seconds': 'workerSeconds',
    '--concurrency': 'workerConcurrency',
    '--key-ttl': 'keyCacheSeconds',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = keys[argv[i] ?? ''];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isFinite(value) || value <= 0) {
      throw new Error(`usage: scale-model [${Object.keys(keys).join(' N] [')} N]`);
    }
    w[key] = value;
  }
  if (w.hotShare >= 1) throw new Error('--hot-share must be below 1');
  return w;
}

export function report(w: Workload): string {
  const out: string[] = [];
  const mean = w.perDay / 86_400;
  out.push(
    `workload: ${fmt(w.perDay)} extractions/day over ${String(w.tenants)} tenants, largest ${String(w.hotShare * 100)}%, ` +
      `peak minute ${String(w.peakToMean)}x the mean (${fmt(mean)}/s mean, ${fmt(mean * w.peakToMean)}/s peak)`,
  );
  out.push('', '| at the peak minute | load | limit | unit | use |', '|---|---|---|---|---|');
  for (const r of loads(w)) {
    const use = Number.isFinite(r.limit) ? `${String(Math.round((100 * r.load) / r.limit))}%` : '';
    out.push(`| ${r.what} | ${fmt(r.load)} | ${fmt(r.limit)} | ${r.unit} | ${use} |`);
  }
  out.push(
    '',
    `hot-tenant ceiling (sequential evidence index, 1 write per extraction): ${fmt(hotTenantCeilingPerDay(w, 1))}/day`,
    `hot-tenant ceiling (extractions collection before the exemptions, 3 sequential writes): ${fmt(hotTenantCeilingPerDay(w, 3))}/day`,
    `tenants one serial seal pass can visit inside ${String(LIMITS.sealerTimeoutSeconds)} s: ${fmt(serialTenantCeiling())}`,
    '',
    '| sealer (hot tenant, one week) | max backlog | backlog at the end | max lag (min) | longest pass (s) |',
    '|---|---|---|---|---|',
  );
  for (const d of [SEALER_TODAY, SEALER_CATCH_UP]) {
    const r = simulateSealer(w, d);
    out.push(
      `| ${r.design} | ${fmt(r.maxBacklog)} | ${fmt(r.endBacklog)} | ${fmt(r.maxLagMinutes)} | ${fmt(r.longestPassSeconds)} |`,
    );
  }
  const sealsPerDay = w.tenants * ((24 * 60) / SEALER_TODAY.everyMinutes);
  out.push(
    '',
    `export: at most ${fmt(sealsPerDay * 2)} objects/day from pass cadence (2 per seal) plus ${fmt(
      Math.ceil((w.perDay * w.hotShare) / SEALER_CATCH_UP.maxBatch) * 2,
    )} from the hot tenant's full batches; ${fmt((w.perDay * PER_EXTRACTION.exportLineBytes) / 1e9)} GB/day of records`,
  );
  return out.join('\n');
}

if (require.main === module) {
  try {
    process.stdout.write(report(parseArgs(process.argv.slice(2))) + '\n');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}
