// A Cloud KMS emulator: a gRPC server built from the protos shipped in @google-cloud/kms, so
// the official KeyManagementServiceClient talks to it unchanged:
//
//   new KeyManagementServiceClient({ apiEndpoint: '127.0.0.1', port,
//                                    sslCreds: grpc.credentials.createInsecure() })
//
// Google ships no offline KMS emulator. Methods the emulator does not implement are left
// unregistered, and grpc-js answers them with UNIMPLEMENTED.
//
// Access control: the same server serves google.iam.v1.IAMPolicy (Get/Set/TestIamPermissions
// on key rings and keys), which the KMS client exposes as getIamPolicy/setIamPolicy. A call
// is made as the member its `authorization: Bearer <member>` metadata names, or as the
// platform's service account without it (iam.ts), so a test can act as a customer who grants
// and revokes the platform's use of a key, through the official client:
//
//   client.setIamPolicy({ resource, policy }, { otherArgs: { headers: asMember('user:...') } })
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type handleUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import type { RunningEmulator } from '../running';
import { KmsError } from './errors';
import { KmsFaults } from './faults';
import { callerOf } from './iam';
import { KmsService } from './service';
import { loadState } from './store';

/** Where and how to run the emulator. */
export interface KmsEmulatorOptions {
  /** Interface to listen on; defaults to 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Folder holding the emulator's state, key material included, across restarts. */
  dataDir: string;
  /** The emulator's clock; tests move it forward to watch scheduled destruction happen. */
  now?: () => number;
  /** How long new asymmetric versions stay PENDING_GENERATION (default one second). */
  asymmetricGenerationMs?: number;
  /** Port of the HTTP fault-injection listener (faults.ts); 0 (the default) picks a free one. */
  adminPort?: number;
}

/** The running emulator and where its fault-injection admin routes are served. */
export interface RunningKmsEmulator extends RunningEmulator {
  /** `host:port` of the admin listener (`POST /admin/faults`, faults.ts). */
  readonly adminHost: string;
}

/** The call metadata that makes a KMS client call act as `member` (see iam.ts). */
export function asMember(member: string): Record<string, string> {
  return { authorization: `Bearer ${member}` };
}

const SERVICE_NAME = 'google.cloud.kms.v1.KeyManagementService';
const IAM_SERVICE_NAME = 'google.iam.v1.IAMPolicy';
/** How often scheduled destructions and rotations are applied while nobody is calling. */
const SETTLE_INTERVAL_MS = 30_000;
/** How long close() lets in-flight calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 2_000;

let cachedDefinitions: { kms: ServiceDefinition; iam: ServiceDefinition } | undefined;

/**
 * Loads the KeyManagementService definition from the protos @google-cloud/kms ships, with the
 * google/api, google/protobuf and google/longrunning imports resolved from google-gax (the
 * package @google-cloud/kms depends on), so the emulator always matches the client's version.
 */
function serviceDefinitions(): { kms: ServiceDefinition; iam: ServiceDefinition } {
  if (cachedDefinitions) return cachedDefinitions;
  const kmsEntry = require.resolve('@google-cloud/kms');
  const gaxEntry = createRequire(kmsEntry).resolve('google-gax');
  const includeDirs = [
    join(dirname(kmsEntry), '..', 'protos'),
    join(dirname(gaxEntry), '..', 'protos'),
  ];
  const packageDefinition: PackageDefinition = loadSync(
    ['google/cloud/kms/v1/service.proto', 'google/iam/v1/iam_policy.proto'],
    {
      includeDirs,
      keepCase: false,
      longs: String,
      enums: String,
      // Without defaults, fields the client did not send stay absent, which is how the
      // emulator tells "no checksum supplied" from "checksum 0".
      defaults: false,
      oneofs: false,
    },
  );
  const find = (name: string): ServiceDefinition => {
    const service = packageDefinition[name];
    if (service === undefined || 'format' in service) {
      throw new Error(`${name} not found in the @google-cloud/kms and google-gax protos`);
    }
    return service;
  };
  cachedDefinitions = { kms: find(SERVICE_NAME), iam: find(IAM_SERVICE_NAME) };
  return cachedDefinitions;
}

function unary<Request, Response>(
  service: KmsService,
  handler: (request: Request, caller: string) => Response,
): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    try {
      service.settle();
      const authorization = call.metadata.get('authorization')[0];
      const caller = callerOf(typeof authorization === 'string' ? authorization : undefined);
      callback(null, handler(call.request, caller));
    } catch (error) {
      if (error instanceof KmsError) {
        callback({ code: error.code, details: error.message }, null);
      } else {
        const details = error instanceof Error ? error.message : String(error);
        callback({ code: status.INTERNAL, details: `KMS emulator error: ${details}` }, null);
      }
    }
  };
}

/**
 * Each handler behind the fault queue: a queued fault answers the call in place of the
 * handler; with none queued the handler runs as it always did.
 */
function withFaults(
  faults: KmsFaults,
  handlers: UntypedServiceImplementation,
): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const unaryHandler = handler as handleUnaryCall<unknown, unknown>;
    wrapped[method] = ((call, callback) => {
      const fault = faults.take(method, call.request);
      if (fault) callback({ code: fault.code, details: fault.message }, null);
      else unaryHandler(call, callback);
    }) satisfies handleUnaryCall<unknown, unknown>;
  }
  return wrapped;
}

function implementation(service: KmsService): UntypedServiceImplementation {
  return {
    ListKeyRings: unary(service, service.listKeyRings.bind(service)),
    ListCryptoKeys: unary(service, service.listCryptoKeys.bind(service)),
    ListCryptoKeyVersions: unary(service, service.listCryptoKeyVersions.bind(service)),
    GetKeyRing: unary(service, service.getKeyRing.bind(service)),
    GetCryptoKey: unary(service, service.getCryptoKey.bind(service)),
    GetCryptoKeyVersion: unary(service, service.getCryptoKeyVersion.bind(service)),
    GetPublicKey: unary(service, service.getPublicKey.bind(service)),
    CreateKeyRing: unary(service, service.createKeyRing.bind(service)),
    CreateCryptoKey: unary(service, service.createCryptoKey.bind(service)),
    CreateCryptoKeyVersion: unary(service, service.createCryptoKeyVersion.bind(service)),
    UpdateCryptoKey: unary(service, service.updateCryptoKey.bind(service)),
    UpdateCryptoKeyVersion: unary(service, service.updateCryptoKeyVersion.bind(service)),
    UpdateCryptoKeyPrimaryVersion: unary(
      service,
      service.updateCryptoKeyPrimaryVersion.bind(service),
    ),
    DestroyCryptoKeyVersion: unary(service, service.destroyCryptoKeyVersion.bind(service)),
    RestoreCryptoKeyVersion: unary(service, service.restoreCryptoKeyVersion.bind(service)),
    Encrypt: unary(service, service.encrypt.bind(service)),
    Decrypt: unary(service, service.decrypt.bind(service)),
    AsymmetricSign: unary(service, service.asymmetricSign.bind(service)),
  };
}

function iamImplementation(service: KmsService): UntypedServiceImplementation {
  return {
    GetIamPolicy: unary(service, service.getIamPolicy.bind(service)),
    SetIamPolicy: unary(service, service.setIamPolicy.bind(service)),
    TestIamPermissions: unary(service, service.testIamPermissions.bind(service)),
  };
}

/**
 * Starts the KMS emulator on `host:port` with its state in `dataDir`, and resolves once it
 * accepts connections. The state written by an earlier run on the same folder is picked up,
 * so ciphertexts from before a restart still decrypt.
 */
export async function startKmsEmulator(options: KmsEmulatorOptions): Promise<RunningKmsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const service = new KmsService({
    dataDir: options.dataDir,
    state: loadState(options.dataDir),
    ...(options.now ? { now: options.now } : {}),
    ...(options.asymmetricGenerationMs === undefined
      ? {}
      : { asymmetricGenerationMs: options.asymmetricGenerationMs }),
  });
  service.settle();

  const faults = new KmsFaults();
  const admin = await faults.listen(host, options.adminPort ?? 0);
  const server = new Server();
  const definitions = serviceDefinitions();
  server.addService(definitions.kms, withFaults(faults, implementation(service)));
  server.addService(definitions.iam, withFaults(faults, iamImplementation(service)));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => {
        if (error) {
          admin.server.close();
          reject(error);
        } else resolve(bound);
      },
    );
  });

  const timer = setInterval(() => {
    try {
      service.settle();
    } catch (error) {
      console.error('KMS emulator: applying scheduled changes failed', error);
    }
  }, SETTLE_INTERVAL_MS);
  timer.unref();

  let closing: Promise<void> | undefined;
  const hostPort = `${host}:${port}`;
  return {
    host: hostPort,
    url: `http://${hostPort}`,
    port,
    adminHost: `${host}:${String(admin.port)}`,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        admin.server.close();
        admin.server.closeAllConnections();
        // Clients keep idle channels open; past the grace period they are cut off.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
