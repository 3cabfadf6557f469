import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A bucket retention policy; `retentionPeriod` is in seconds. */
export interface RetentionPolicy {
  retentionPeriod: number;
  effectiveTime: string;
  isLocked: boolean;
}

export interface BucketRecord {
  name: string;
  project: string;
  timeCreated: string;
  updated: string;
  metageneration: number;
  location: string;
  storageClass: string;
  labels: Record<string, string>;
  /** Set only at creation (`enableObjectRetention=true`), as in production. */
  objectRetentionEnabled: boolean;
  retentionPolicy?: RetentionPolicy;
}

export type RetentionMode = 'Unlocked' | 'Locked';

/** Per-object retention (the `retention` field of an object resource). */
export interface ObjectRetention {
  mode: RetentionMode;
  retainUntilTime: string;
}

/** Everything the emulator keeps about one live object; bytes live in a sibling file. */
export interface ObjectRecord {
  bucket: string;
  name: string;
  /** Decimal string, like production (microseconds since the epoch, strictly increasing). */
  generation: string;
  metageneration: number;
  size: number;
  contentType: string;
  md5Hash: string;
  crc32c: string;
  timeCreated: string;
  updated: string;
  metadata?: Record<string, string>;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  customTime?: string;
  retention?: ObjectRetention;
}

interface BucketState {
  record: BucketRecord;
  objects: Map<string, ObjectRecord>;
}

const BUCKET_FILE = 'bucket.json';
const OBJECTS_DIR = 'objects';
const TEMP_PREFIX = '.tmp-';

/**
 * Writes through a temporary file in the same directory and renames it into place, so a crash
 * mid-write leaves either the old file or the new one, never a torn one.
 */
function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const temp = path.join(path.dirname(target), `${TEMP_PREFIX}${randomUUID()}`);
  const fd = fs.openSync(temp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, target);
}

/** Object names may be 1024 bytes of arbitrary UTF-8: too long and too free-form for file names. */
function objectKey(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}

/**
 * Bucket and object state, held in memory for listing and written through to `dataDir`:
 *
 * ```
 * dataDir/buckets/<bucket>/bucket.json
 * dataDir/buckets/<bucket>/objects/<sha256(name)>.json            object metadata
 * dataDir/buckets/<bucket>/objects/<sha256(name)>.<generation>.bin object bytes
 * ```
 *
 * The bytes file is named by generation and written before the metadata that points at it, so
 * the metadata rename is the single commit point of an upload; stray files from an interrupted
 * write are swept on open.
 *
 * Every mutating method is synchronous on purpose: a check-then-write (precondition, retention)
 * followed by the write cannot interleave with another request on the event loop.
 */
export class Store {
  private readonly buckets = new Map<string, BucketState>();
  private lastGeneration = 0;

  private constructor(private readonly root: string) {}

  /** Loads (or creates) the state under `dataDir`. */
  static open(dataDir: string): Store {
    const store = new Store(path.join(dataDir, 'buckets'));
    fs.mkdirSync(store.root, { recursive: true });
    for (const entry of fs.readdirSync(store.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const bucketDir = path.join(store.root, entry.name);
      const bucketFile = path.join(bucketDir, BUCKET_FILE);
      if (!fs.existsSync(bucketFile)) {
        // A bucket directory without its metadata is a half-created or half-deleted bucket.
        fs.rmSync(bucketDir, { recursive: true, force: true });
        continue;
      }
      for (const file of fs.readdirSync(bucketDir)) {
        if (file.startsWith(TEMP_PREFIX)) fs.rmSync(path.join(bucketDir, file), { force: true });
      }
      const record = JSON.parse(fs.readFileSync(bucketFile, 'utf8')) as BucketRecord;
      const state: BucketState = { record, objects: new Map() };
      store.buckets.set(record.name, state);
      store.loadObjects(state, path.join(bucketDir, OBJECTS_DIR));
    }
    return store;
  }

  private loadObjects(state: BucketState, dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const files = fs.readdirSync(dir);
    const referenced = new Set<string>();
    for (const file of files) {
      if (!file.endsWith('.json') || file.startsWith(TEMP_PREFIX)) continue;
      const record = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as ObjectRecord;
      state.objects.set(record.name, record);
      referenced.add(path.basename(this.bytesPath(record)));
      this.lastGeneration = Math.max(this.lastGeneration, Number(record.generation));
    }
    for (const file of files) {
      const orphanBytes = file.endsWith('.bin') && !referenced.has(file);
      if (orphanBytes || file.startsWith(TEMP_PREFIX))
        fs.rmSync(path.join(dir, file), { force: true });
    }
  }

  private bucketDir(bucket: string): string {
    return path.join(this.root, bucket);
  }

  private metadataPath(bucket: string, name: string): string {
    return path.join(this.bucketDir(bucket), OBJECTS_DIR, `${objectKey(name)}.json`);
  }

  private bytesPath(record: Pick<ObjectRecord, 'bucket' | 'name' | 'generation'>): string {
    return path.join(
      this.bucketDir(record.bucket),
      OBJECTS_DIR,
      `${objectKey(record.name)}.${record.generation}.bin`,
    );
  }

  /** A fresh generation number: microseconds since the epoch, strictly increasing across restarts. */
  nextGeneration(): string {
    this.lastGeneration = Math.max(Date.now() * 1000, this.lastGeneration + 1);
    return String(this.lastGeneration);
  }

  getBucket(name: string): BucketRecord | undefined {
    return this.buckets.get(name)?.record;
  }

  listBuckets(project: string): BucketRecord[] {
    return [...this.buckets.values()]
      .map((state) => state.record)
      .filter((record) => record.project === project)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Creates or replaces a bucket's metadata. */
  putBucket(record: BucketRecord): void {
    const dir = this.bucketDir(record.name);
    fs.mkdirSync(path.join(dir, OBJECTS_DIR), { recursive: true });
    writeFileAtomic(path.join(dir, BUCKET_FILE), JSON.stringify(record, null, 2));
    const existing = this.buckets.get(record.name);
    if (existing) existing.record = record;
    else this.buckets.set(record.name, { record, objects: new Map() });
  }

  objectCount(bucket: string): number {
    return this.buckets.get(bucket)?.objects.size ?? 0;
  }

  deleteBucket(name: string): void {
    const dir = this.bucketDir(name);
    // Removing bucket.json first makes a crash mid-delete look like "no bucket" on the next open.
    fs.rmSync(path.join(dir, BUCKET_FILE), { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    this.buckets.delete(name);
  }

  getObject(bucket: string, name: string): ObjectRecord | undefined {
    return this.buckets.get(bucket)?.objects.get(name);
  }

  /** The bucket's live objects in the order listings use: by the UTF-8 bytes of the name. */
  sortedObjects(bucket: string): ObjectRecord[] {
    const objects = [...(this.buckets.get(bucket)?.objects.values() ?? [])];
    return objects.sort((a, b) =>
      Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8')),
    );
  }

  /** Stores a new generation of an object (bytes first, then the metadata that commits it). */
  putObject(record: ObjectRecord, bytes: Uint8Array): void {
    const state = this.requireBucket(record.bucket);
    const previous = state.objects.get(record.name);
    writeFileAtomic(this.bytesPath(record), bytes);
    writeFileAtomic(this.metadataPath(record.bucket, record.name), JSON.stringify(record, null, 2));
    state.objects.set(record.name, record);
    if (previous && previous.generation !== record.generation)
      fs.rmSync(this.bytesPath(previous), { force: true });
  }

  /** Replaces the metadata of the current generation; the bytes are untouched. */
  updateObjectMetadata(record: ObjectRecord): void {
    const state = this.requireBucket(record.bucket);
    writeFileAtomic(this.metadataPath(record.bucket, record.name), JSON.stringify(record, null, 2));
    state.objects.set(record.name, record);
  }

  deleteObject(record: ObjectRecord): void {
    const state = this.requireBucket(record.bucket);
    fs.rmSync(this.metadataPath(record.bucket, record.name), { force: true });
    fs.rmSync(this.bytesPath(record), { force: true });
    state.objects.delete(record.name);
  }

  readObjectBytes(record: ObjectRecord): Buffer {
    return fs.readFileSync(this.bytesPath(record));
  }

  private requireBucket(name: string): BucketState {
    const state = this.buckets.get(name);
    if (!state) throw new Error(`bucket ${name} is not loaded`);
    return state;
  }
}
