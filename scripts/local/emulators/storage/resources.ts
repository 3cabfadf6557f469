import { createHash } from 'node:crypto';
import { bucketRetentionExpiry } from './retention';
import type { BucketRecord, ObjectRecord } from './store';

/** Production etags are opaque base64; clients only compare them, so any stable digest will do. */
function etag(...parts: (string | number)[]): string {
  return createHash('md5').update(parts.join('/')).digest('base64').slice(0, 16);
}

/** A `storage#bucket` resource as the JSON API returns it. */
export function bucketResource(bucket: BucketRecord, baseUrl: string): Record<string, unknown> {
  const resource: Record<string, unknown> = {
    kind: 'storage#bucket',
    id: bucket.name,
    selfLink: `${baseUrl}/storage/v1/b/${bucket.name}`,
    projectNumber: '0',
    name: bucket.name,
    timeCreated: bucket.timeCreated,
    updated: bucket.updated,
    metageneration: String(bucket.metageneration),
    location: bucket.location,
    locationType: 'multi-region',
    storageClass: bucket.storageClass,
    etag: etag(bucket.name, bucket.metageneration),
  };
  if (Object.keys(bucket.labels).length > 0) resource['labels'] = bucket.labels;
  if (bucket.objectRetentionEnabled) resource['objectRetention'] = { mode: 'Enabled' };
  if (bucket.retentionPolicy) {
    resource['retentionPolicy'] = {
      retentionPeriod: String(bucket.retentionPolicy.retentionPeriod),
      effectiveTime: bucket.retentionPolicy.effectiveTime,
      ...(bucket.retentionPolicy.isLocked ? { isLocked: true } : {}),
    };
  }
  return resource;
}

/**
 * A `storage#object` resource. `retentionExpirationTime` is derived at read time because a bucket
 * policy applies to existing objects as soon as it is set or changed.
 */
export function objectResource(
  object: ObjectRecord,
  bucket: BucketRecord,
  baseUrl: string,
): Record<string, unknown> {
  const encoded = encodeURIComponent(object.name);
  const resource: Record<string, unknown> = {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${baseUrl}/storage/v1/b/${object.bucket}/o/${encoded}`,
    mediaLink: `${baseUrl}/download/storage/v1/b/${object.bucket}/o/${encoded}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: String(object.metageneration),
    contentType: object.contentType,
    storageClass: bucket.storageClass,
    size: String(object.size),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etag(object.generation, object.metageneration),
    timeCreated: object.timeCreated,
    updated: object.updated,
    timeStorageClassUpdated: object.timeCreated,
  };
  const optional = {
    contentEncoding: object.contentEncoding,
    contentDisposition: object.contentDisposition,
    contentLanguage: object.contentLanguage,
    cacheControl: object.cacheControl,
    customTime: object.customTime,
    metadata:
      object.metadata && Object.keys(object.metadata).length > 0 ? object.metadata : undefined,
    retention: object.retention,
    retentionExpirationTime: bucketRetentionExpiry(bucket, object)?.toISOString(),
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined) resource[key] = value;
  return resource;
}
