import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Bucket, Storage } from '@google-cloud/storage';
import { crc32cBase64 } from '../../functions/src/util/crc32c';
import type { RunningEmulator } from '../../scripts/local/emulators/running';
import { startStorageEmulator } from '../../scripts/local/emulators/storage/server';

const PROJECT = 'demo-provenant';
const DAY_MS = 24 * 60 * 60 * 1000;

let dataDir: string;
let emulator: RunningEmulator;
let storage: Storage;
/** Created with enableObjectRetention=true. */
let retained: Bucket;
/** No retention of any kind. */
let plain: Bucket;
/** Carries a bucket retention policy. */
let policy: Bucket;

function connect(running: RunningEmulator): Storage {
  return new Storage({ apiEndpoint: running.url, projectId: PROJECT });
}

interface ApiErrorShape {
  code?: unknown;
  message?: unknown;
  errors?: { reason?: unknown }[];
  /** Present on errors from the resumable-upload path, which goes through gaxios. */
  response?: { data?: { error?: { errors?: { reason?: unknown }[] } } };
}

/** The GCS `reason`, wherever the client put it (ApiError vs GaxiosError). */
function reasonOf(error: ApiErrorShape): unknown {
  return error.errors?.[0]?.reason ?? error.response?.data?.error?.errors?.[0]?.reason;
}

/** Awaits a rejection and returns the client's error object for field-level assertions. */
async function rejection(promise: Promise<unknown>): Promise<ApiErrorShape> {
  try {
    await promise;
  } catch (error) {
    return error as ApiErrorShape;
  }
  throw new Error('expected the call to be rejected, but it succeeded');
}

function md5Base64(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

function inDays(days: number): string {
  return new Date(Date.now() + days * DAY_MS).toISOString();
}

/**
 * `@google-cloud/storage` 8 sends requests through teeny-request 11 and gaxios 7, which load
 * node-fetch 3 with a dynamic `import()`. Inside jest's VM that only works when Node runs with
 * `--experimental-vm-modules`; without it every request fails after the client's retries, so say
 * so once instead of timing out in every test.
 */
function assertDynamicImportAvailable(): void {
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  if (!flags.includes('--experimental-vm-modules')) {
    throw new Error(
      'Run jest with NODE_OPTIONS=--experimental-vm-modules: the storage client loads node-fetch through import().',
    );
  }
}

beforeAll(async () => {
  assertDynamicImportAvailable();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenant-storage-emulator-'));
  emulator = await startStorageEmulator({ dataDir, port: 0 });
  storage = connect(emulator);
  [retained] = await storage.createBucket('retained-objects', { enableObjectRetention: true });
  [plain] = await storage.createBucket('plain-objects');
  [policy] = await storage.createBucket('policy-objects', {
    retentionPolicy: { retentionPeriod: 3600 },
  });
});

afterAll(async () => {
  // beforeAll may have stopped before starting anything; report its error, not a TypeError here.
  await (emulator as RunningEmulator | undefined)?.close();
  if ((dataDir as string | undefined) !== undefined)
    fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('denials', () => {
  it('refuses to delete an object under Locked retention with 403 forbidden and keeps it', async () => {
    const until = inDays(2);
    const file = retained.file('locked/evidence.pdf');
    await file.save(Buffer.from('signed evidence'), {
      metadata: { retention: { mode: 'Locked', retainUntilTime: until } },
    });

    const error = await rejection(file.delete());
    expect(error.code).toBe(403);
    expect(reasonOf(error)).toBe('forbidden');
    expect(error.message).toBe(
      `Object 'retained-objects/locked/evidence.pdf' is subject to object retention and cannot be deleted, overwritten or archived until ${until}`,
    );
    const [bytes] = await file.download();
    expect(bytes.toString()).toBe('signed evidence');
  });

  it('refuses to overwrite a retained object, by simple and by resumable upload', async () => {
    const file = retained.file('locked/overwrite.txt');
    await file.save('original', {
      resumable: false,
      metadata: { retention: { mode: 'Locked', retainUntilTime: inDays(1) } },
    });
    const [before] = await file.getMetadata();

    const simple = await rejection(file.save('replacement', { resumable: false }));
    expect(simple.code).toBe(403);
    expect(reasonOf(simple)).toBe('forbidden');
    expect(String(simple.message)).toMatch(
      /^Object 'retained-objects\/locked\/overwrite.txt' is subject to object retention/,
    );

    const resumable = await rejection(file.save('replacement', { resumable: true }));
    expect(resumable.code).toBe(403);
    expect(reasonOf(resumable)).toBe('forbidden');
    expect(resumable.message).toBe(simple.message);

    const [after] = await file.getMetadata();
    expect(after.generation).toBe(before.generation);
    expect((await file.download())[0].toString()).toBe('original');
  });

  it('refuses to shorten, unlock or remove Locked retention', async () => {
    const until = inDays(3);
    const file = retained.file('locked/shorten.txt');
    await file.save('x', { metadata: { retention: { mode: 'Locked', retainUntilTime: until } } });

    const shorter = await rejection(
      file.setMetadata({ retention: { mode: 'Locked', retainUntilTime: inDays(1) } }),
    );
    expect(shorter.code).toBe(403);
    expect(reasonOf(shorter)).toBe('forbidden');
    const unlock = await rejection(
      file.setMetadata(
        { retention: { mode: 'Unlocked', retainUntilTime: until } },
        { overrideUnlockedRetention: true },
      ),
    );
    expect(unlock.code).toBe(403);
    const removal = await rejection(
      file.setMetadata({ retention: null }, { overrideUnlockedRetention: true }),
    );
    expect(removal.code).toBe(403);

    const [metadata] = await file.getMetadata();
    expect(metadata.retention).toEqual({ mode: 'Locked', retainUntilTime: until });
    expect(metadata.metageneration).toBe('1');

    const later = inDays(10);
    const [extended] = await file.setMetadata({
      retention: { mode: 'Locked', retainUntilTime: later },
    });
    expect(extended.retention).toEqual({ mode: 'Locked', retainUntilTime: later });
    expect(extended.metageneration).toBe('2');
  });

  it('refuses ifGenerationMatch=0 on an existing name with 412 conditionNotMet', async () => {
    const file = plain.file('precondition/once.txt');
    await file.save('first', { preconditionOpts: { ifGenerationMatch: 0 } });

    const simple = await rejection(
      file.save('second', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    expect(simple.code).toBe(412);
    expect(reasonOf(simple)).toBe('conditionNotMet');
    const resumable = await rejection(
      file.save('second', { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    expect(resumable.code).toBe(412);
    expect(reasonOf(resumable)).toBe('conditionNotMet');

    expect((await file.download())[0].toString()).toBe('first');
  });

  it('refuses stale generation and metageneration preconditions on delete and patch', async () => {
    const file = plain.file('precondition/stale.txt');
    await file.save('v1');
    const [metadata] = await file.getMetadata();
    const staleGeneration = Number(metadata.generation) - 1;

    const del = await rejection(file.delete({ ifGenerationMatch: staleGeneration }));
    expect(del.code).toBe(412);
    const patch = await rejection(
      file.setMetadata({ metadata: { a: 'b' } }, { ifMetagenerationMatch: 7 }),
    );
    expect(patch.code).toBe(412);
    expect(reasonOf(patch)).toBe('conditionNotMet');

    const [patched] = await file.setMetadata(
      { metadata: { a: 'b' } },
      { ifMetagenerationMatch: 1 },
    );
    expect(patched.metageneration).toBe('2');
    await file.delete({ ifGenerationMatch: Number(metadata.generation) });
    expect((await file.exists())[0]).toBe(false);
  });

  it('requires overrideUnlockedRetention to shorten or remove Unlocked retention', async () => {
    const file = retained.file('unlocked/report.txt');
    await file.save('draft', {
      metadata: { retention: { mode: 'Unlocked', retainUntilTime: inDays(5) } },
    });

    const shorter = await rejection(
      file.setMetadata({ retention: { mode: 'Unlocked', retainUntilTime: inDays(1) } }),
    );
    expect(shorter.code).toBe(403);
    expect(reasonOf(shorter)).toBe('forbidden');
    expect((await rejection(file.setMetadata({ retention: null }))).code).toBe(403);
    expect((await rejection(file.delete())).code).toBe(403);

    const earlier = inDays(1);
    const [shortened] = await file.setMetadata(
      { retention: { mode: 'Unlocked', retainUntilTime: earlier } },
      { overrideUnlockedRetention: true },
    );
    expect(shortened.retention).toEqual({ mode: 'Unlocked', retainUntilTime: earlier });
    const [removed] = await file.setMetadata(
      { retention: null },
      { overrideUnlockedRetention: true },
    );
    expect(removed.retention).toBeUndefined();
    await file.delete();
    expect((await file.exists())[0]).toBe(false);
  });

  it('rejects object retention in a bucket created without enableObjectRetention (400)', async () => {
    const error = await rejection(
      plain.file('no-retention.txt').save('x', {
        resumable: false,
        metadata: { retention: { mode: 'Locked', retainUntilTime: inDays(1) } },
      }),
    );
    expect(error.code).toBe(400);
    expect((await plain.file('no-retention.txt').exists())[0]).toBe(false);
  });

  it('enforces a bucket retention policy on delete and overwrite, and a locked policy cannot shrink', async () => {
    const file = policy.file('policy/held.txt');
    await file.save('held');
    const [metadata] = await file.getMetadata();
    const expiry = new Date(Date.parse(String(metadata.timeCreated)) + 3600 * 1000).toISOString();
    expect(metadata.retentionExpirationTime).toBe(expiry);

    const del = await rejection(file.delete());
    expect(del.code).toBe(403);
    expect(reasonOf(del)).toBe('forbidden');
    expect(del.message).toBe(
      `Object 'policy-objects/policy/held.txt' is subject to bucket's retention policy and cannot be deleted, overwritten or archived until ${expiry}`,
    );
    expect((await rejection(file.save('other', { resumable: false }))).code).toBe(403);

    const [bucketMetadata] = await policy.getMetadata();
    expect(bucketMetadata.retentionPolicy).toMatchObject({ retentionPeriod: '3600' });
    await policy.lock(String(bucketMetadata.metageneration));
    const [locked] = await policy.getMetadata();
    expect(locked.retentionPolicy?.isLocked).toBe(true);

    expect((await rejection(policy.setRetentionPeriod(60))).code).toBe(403);
    expect((await rejection(policy.removeRetentionPeriod())).code).toBe(403);
    const [grown] = await policy.setRetentionPeriod(7200);
    expect(grown.retentionPolicy).toMatchObject({ retentionPeriod: '7200', isLocked: true });
    const [after] = await file.getMetadata();
    expect(after.retentionExpirationTime).toBe(
      new Date(Date.parse(String(metadata.timeCreated)) + 7200 * 1000).toISOString(),
    );
  });

  it('refuses to lock a retention policy with a stale metageneration (412)', async () => {
    const [bucket] = await storage.createBucket('lock-precondition', {
      retentionPolicy: { retentionPeriod: 10 },
    });
    const error = await rejection(bucket.lock('99'));
    expect(error.code).toBe(412);
    const [metadata] = await bucket.getMetadata();
    expect(metadata.retentionPolicy?.isLocked).toBeUndefined();
  });

  it('answers 404 notFound for missing objects and buckets, 409 for a non-empty bucket delete', async () => {
    const missing = await rejection(plain.file('nope.txt').getMetadata());
    expect(missing.code).toBe(404);
    expect(reasonOf(missing)).toBe('notFound');
    expect((await rejection(storage.bucket('no-such-bucket').getMetadata())).code).toBe(404);
    expect((await rejection(plain.file('nope.txt').download())).code).toBe(404);

    const [bucket] = await storage.createBucket('non-empty');
    await bucket.file('keep.txt').save('k');
    const conflict = await rejection(bucket.delete());
    expect(conflict.code).toBe(409);
    await bucket.file('keep.txt').delete();
    await bucket.delete();
    expect((await bucket.exists())[0]).toBe(false);
  });

  it('answers 501 for API surface it does not implement', async () => {
    const file = plain.file('copy-source.txt');
    await file.save('c');
    const error = await rejection(file.copy(plain.file('copy-target.txt')));
    expect(error.code).toBe(501);
    const hold = await rejection(file.setMetadata({ temporaryHold: true }));
    expect(hold.code).toBe(501);
  });
});

describe('objects', () => {
  it('stores a multipart upload with the full resource and independently correct checksums', async () => {
    const bytes = randomBytes(4096);
    const file = plain.file('docs/a b/ü.bin');
    await file.save(bytes, {
      resumable: false,
      metadata: { contentType: 'application/pdf', metadata: { tenant: 't1' } },
    });
    const [metadata] = await file.getMetadata();
    expect(metadata).toMatchObject({
      bucket: 'plain-objects',
      name: 'docs/a b/ü.bin',
      metageneration: '1',
      size: '4096',
      contentType: 'application/pdf',
      md5Hash: md5Base64(bytes),
      crc32c: crc32cBase64(bytes),
      metadata: { tenant: 't1' },
    });
    expect(metadata.generation).toMatch(/^\d{16}$/);
    expect(metadata.id).toBe(`plain-objects/docs/a b/ü.bin/${String(metadata.generation)}`);
    expect(String(metadata.selfLink)).toBe(
      `${emulator.url}/storage/v1/b/plain-objects/o/${encodeURIComponent('docs/a b/ü.bin')}`,
    );
    expect(String(metadata.mediaLink)).toContain('/download/storage/v1/b/plain-objects/o/');
    for (const field of ['timeCreated', 'updated', 'etag'] as const)
      expect(typeof metadata[field]).toBe('string');
    expect(Date.parse(String(metadata.timeCreated))).not.toBeNaN();
    expect((await file.download())[0].equals(bytes)).toBe(true);
  });

  it('completes a single-request resumable upload larger than 1 MiB', async () => {
    const bytes = randomBytes(1024 * 1024 + 17);
    const file = plain.file('big/single.bin');
    await file.save(bytes, { resumable: true });
    const [metadata] = await file.getMetadata();
    expect(metadata.size).toBe(String(bytes.length));
    expect(metadata.crc32c).toBe(crc32cBase64(bytes));
    expect(metadata.md5Hash).toBe(md5Base64(bytes));
    expect((await file.download())[0].equals(bytes)).toBe(true);
  });

  it('completes a chunked resumable upload through 308 Resume Incomplete answers', async () => {
    const bytes = randomBytes(3 * 256 * 1024 + 1234);
    const file = plain.file('big/chunked.bin');
    const progress: number[] = [];
    await file.save(bytes, {
      resumable: true,
      chunkSize: 256 * 1024,
      onUploadProgress: (event: { bytesWritten: number }) => progress.push(event.bytesWritten),
    });
    const [metadata] = await file.getMetadata();
    expect(metadata.size).toBe(String(bytes.length));
    expect(metadata.crc32c).toBe(crc32cBase64(bytes));
    expect((await file.download())[0].equals(bytes)).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(4);
  });

  it('serves byte ranges through createReadStream({start, end})', async () => {
    const bytes = randomBytes(10_000);
    const file = plain.file('range.bin');
    await file.save(bytes, { resumable: false });
    const chunks: Buffer[] = [];
    for await (const chunk of file.createReadStream({ start: 100, end: 1099 }))
      chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes.subarray(100, 1100))).toBe(true);
    const [tail] = await file.download({ start: 9990 });
    expect(tail.equals(bytes.subarray(9990))).toBe(true);
  });

  it('patches custom metadata and contentType, bumping metageneration only', async () => {
    const file = plain.file('patch.txt');
    await file.save('p', {
      metadata: { contentType: 'text/plain', metadata: { keep: '1', drop: '2' } },
    });
    const [before] = await file.getMetadata();
    const [after] = await file.setMetadata({
      contentType: 'application/json',
      metadata: { drop: null, added: 'yes' },
    });
    expect(after.contentType).toBe('application/json');
    expect(after.metadata).toEqual({ keep: '1', added: 'yes' });
    expect(after.generation).toBe(before.generation);
    expect(after.metageneration).toBe('2');
    expect(after.md5Hash).toBe(md5Base64(Buffer.from('p')));
  });

  it('replaces an unretained object with a new generation', async () => {
    const file = plain.file('overwrite.txt');
    await file.save('one');
    const [first] = await file.getMetadata();
    await file.save('two', { resumable: false });
    const [second] = await file.getMetadata();
    expect(BigInt(String(second.generation))).toBeGreaterThan(BigInt(String(first.generation)));
    expect((await file.download())[0].toString()).toBe('two');
  });

  it('lists with prefix and delimiter', async () => {
    const [bucket] = await storage.createBucket('listing');
    for (const name of [
      'a/1.txt',
      'a/2.txt',
      'a/sub/3.txt',
      'a/sub/4.txt',
      'a/z/5.txt',
      'b/6.txt',
      'top.txt',
    ])
      await bucket.file(name).save(name);

    const [files] = await bucket.getFiles({ prefix: 'a/' });
    expect(files.map((f) => f.name)).toEqual([
      'a/1.txt',
      'a/2.txt',
      'a/sub/3.txt',
      'a/sub/4.txt',
      'a/z/5.txt',
    ]);

    const [direct, , response] = await bucket.getFiles({
      prefix: 'a/',
      delimiter: '/',
      autoPaginate: false,
    });
    expect(direct.map((f) => f.name)).toEqual(['a/1.txt', 'a/2.txt']);
    expect((response as { prefixes?: string[] }).prefixes).toEqual(['a/sub/', 'a/z/']);

    const [firstPage, next, firstResponse] = await bucket.getFiles({
      delimiter: '/',
      maxResults: 2,
      autoPaginate: false,
    });
    expect(firstPage.map((f) => f.name)).toEqual([]);
    expect((firstResponse as { prefixes?: string[] }).prefixes).toEqual(['a/', 'b/']);
    const [secondPage, last, secondResponse] = await bucket.getFiles({
      ...(next as object),
      autoPaginate: false,
    });
    expect(secondPage.map((f) => f.name)).toEqual(['top.txt']);
    expect((secondResponse as { prefixes?: string[] }).prefixes).toBeUndefined();
    expect(last).toBeNull();
  });

  it('paginates 25 objects 10 at a time without gaps or repeats', async () => {
    const [bucket] = await storage.createBucket('pagination');
    const names = Array.from({ length: 25 }, (_, i) => `page/${String(i).padStart(2, '0')}.txt`);
    for (const name of names) await bucket.file(name).save(name, { resumable: false });
    await bucket.file('other/outside.txt').save('o');

    const pages: string[][] = [];
    let query: object | null = { prefix: 'page/', maxResults: 10, autoPaginate: false };
    while (query) {
      const [files, next] = (await bucket.getFiles(query)) as [
        { name: string }[],
        object | null,
        unknown,
      ];
      pages.push(files.map((f) => f.name));
      query = next;
    }
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(names);
  });

  it('deletes an object', async () => {
    const file = plain.file('delete-me.txt');
    await file.save('d');
    await file.delete();
    const error = await rejection(file.getMetadata());
    expect(error.code).toBe(404);
  });
});

describe('persistence', () => {
  it('serves the same buckets, objects, generations and protections after a restart on the same dataDir', async () => {
    const bytes = randomBytes(2048);
    await plain.file('persist/kept.bin').save(bytes, { metadata: { metadata: { k: 'v' } } });
    const [before] = await plain.file('persist/kept.bin').getMetadata();

    await emulator.close();
    emulator = await startStorageEmulator({ dataDir, port: 0 });
    storage = connect(emulator);
    plain = storage.bucket('plain-objects');
    retained = storage.bucket('retained-objects');
    policy = storage.bucket('policy-objects');

    const file = plain.file('persist/kept.bin');
    const [after] = await file.getMetadata();
    expect(after.generation).toBe(before.generation);
    expect(after.metageneration).toBe(before.metageneration);
    expect(after.crc32c).toBe(crc32cBase64(bytes));
    expect(after.metadata).toEqual({ k: 'v' });
    expect((await file.download())[0].equals(bytes)).toBe(true);

    const [retainedMetadata] = await retained.getMetadata();
    expect(retainedMetadata.objectRetention).toEqual({ mode: 'Enabled' });
    const [policyMetadata] = await policy.getMetadata();
    expect(policyMetadata.retentionPolicy).toMatchObject({
      retentionPeriod: '7200',
      isLocked: true,
    });
    expect((await rejection(retained.file('locked/evidence.pdf').delete())).code).toBe(403);

    // A new generation after the restart must still sort after the ones written before it.
    await file.save(Buffer.from('newer'), { resumable: false });
    const [rewritten] = await file.getMetadata();
    expect(BigInt(String(rewritten.generation))).toBeGreaterThan(BigInt(String(before.generation)));
  });
});
