/**
 * The clients one function instance needs, built once at cold start from the config (the
 * Pub/Sub client at the first publish, the model SDKs' clients at the first call). Modules
 * take what they use as arguments; only `index.ts` and the CLI call `getServices()`.
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { getConfig, type Config, type ProviderName } from './config';
import { KeyHierarchy } from './crypto/envelope';
import { CloudKmsKeyManager, createKmsClient, type KeyManager } from './crypto/kms';
import type { LlmProvider } from './providers/provider';
import { createProviders } from './providers/registry';
import { ObjectStore } from './storage/object-store';
import { Databases } from './tenancy/firestore';
import { PlatformDb } from './tenancy/platform';

export interface Services {
  config: Config;
  databases: Databases;
  platform: PlatformDb;
  keyManager: KeyManager;
  keys: KeyHierarchy;
  objects: ObjectStore;
  pubsub: PubSub;
  providers: Record<ProviderName, LlmProvider>;
  close(): Promise<void>;
}

/**
 * The Pub/Sub client library, loaded when a process first publishes: the CLI, the sealer and
 * most commands never do, and loading it was a sixth of their start.
 */
function pubSubLibrary(): typeof import('@google-cloud/pubsub') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@google-cloud/pubsub') as typeof import('@google-cloud/pubsub');
}

export function createServices(config: Config = getConfig()): Services {
  const databases = new Databases(config.GOOGLE_CLOUD_PROJECT);
  const kms = createKmsClient(config.KMS_API_ENDPOINT);
  const keyManager = new CloudKmsKeyManager(kms);
  let pubsub: PubSub | undefined;
  return {
    config,
    databases,
    platform: new PlatformDb(databases, config.EVIDENCE_RETENTION_DAYS),
    keyManager,
    keys: new KeyHierarchy(
      keyManager,
      config.WRAPPING_KEY_CACHE_TTL_SECONDS * 1000,
      config.WRAPPING_KEY_CACHE_MAX_ENTRIES,
    ),
    objects: ObjectStore.create(config.GOOGLE_CLOUD_PROJECT, config.STORAGE_API_ENDPOINT),
    get pubsub() {
      pubsub ??= new (pubSubLibrary().PubSub)({ projectId: config.GOOGLE_CLOUD_PROJECT });
      return pubsub;
    },
    providers: createProviders(config),
    async close() {
      await Promise.allSettled([databases.close(), kms.close(), pubsub?.close()]);
    },
  };
}

/**
 * A topic whose messages leave at once. The client batches publishes by default and waits up to
 * 10 ms for a batch to fill (`maxDelayMillis` in @google-cloud/pubsub's default-options.js):
 * every request that awaits its publish before answering, and every extraction's start, would
 * wait out that delay. Publishes made in the same tick still share one request.
 */
export function unbatchedTopic(services: Pick<Services, 'pubsub'>, name: string): Topic {
  return services.pubsub.topic(name, { batching: { maxMilliseconds: 0 } });
}

let instance: Services | undefined;

export function getServices(): Services {
  instance ??= createServices();
  return instance;
}
