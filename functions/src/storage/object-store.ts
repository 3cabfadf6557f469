/**
 * Objects in Cloud Storage through @google-cloud/storage. Writes are create-only
 * (`ifGenerationMatch: 0`): an object name is never silently overwritten.
 */
import { Storage } from '@google-cloud/storage';

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Object retention (bucket must have object retention enabled). */
  retainUntil?: Date;
  retentionMode?: 'Locked' | 'Unlocked';
}

export class ObjectStore {
  constructor(private readonly storage: Storage) {}

  static create(projectId: string, apiEndpoint?: string): ObjectStore {
    return new ObjectStore(new Storage({ projectId, ...(apiEndpoint ? { apiEndpoint } : {}) }));
  }

  async putNew(
    bucket: string,
    name: string,
    bytes: Buffer,
    options: PutOptions = {},
  ): Promise<string> {
    const file = this.storage.bucket(bucket).file(name);
    await file.save(bytes, {
      resumable: false,
      contentType: options.contentType ?? 'application/octet-stream',
      preconditionOpts: { ifGenerationMatch: 0 },
      metadata: {
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.retainUntil
          ? {
              retention: {
                mode: options.retentionMode ?? 'Locked',
                retainUntilTime: options.retainUntil.toISOString(),
              },
            }
          : {}),
      },
    });
    return `gs://${bucket}/${name}`;
  }

  async get(bucket: string, name: string): Promise<Buffer> {
    const [contents] = await this.storage.bucket(bucket).file(name).download();
    return contents;
  }

  async exists(bucket: string, name: string): Promise<boolean> {
    const [exists] = await this.storage.bucket(bucket).file(name).exists();
    return exists;
  }

  async delete(
    bucket: string,
    name: string,
    options: { ignoreNotFound?: boolean } = {},
  ): Promise<void> {
    await this.storage
      .bucket(bucket)
      .file(name)
      .delete({ ignoreNotFound: options.ignoreNotFound ?? false });
  }

  async list(bucket: string, prefix: string): Promise<string[]> {
    const [files] = await this.storage.bucket(bucket).getFiles({ prefix });
    return files.map((f) => f.name);
  }

  /** Creates a bucket if missing (local stack provisioning; Terraform does it in production). */
  async ensureBucket(bucket: string, options: { objectRetention?: boolean } = {}): Promise<void> {
    const [exists] = await this.storage.bucket(bucket).exists();
    if (exists) return;
    await this.storage.createBucket(bucket, {
      ...(options.objectRetention ? { enableObjectRetention: true } : {}),
    });
  }
}

export function parseGsUri(uri: string): { bucket: string; name: string } {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`not a gs:// URI: ${uri}`);
  return { bucket: match[1], name: match[2] };
}
