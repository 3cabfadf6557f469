// A Cloud KMS emulator: a gRPC server built from the protos shipped in @google-cloud/kms, so
// the official KeyManagementServiceClient talks to it unchanged:
//
//   new KeyManagementServiceClient({ apiEndpoint: '127.0.0.1', port,
//                                    sslCreds: grpc.credentials.createInsecure() })
//
// Google ships no offline KMS emulator. Methods the emulator does not implement are left
// unregistered, and grpc-js answers them with UNIMPLEMENTED.
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
}

const SERVICE_NAME = 'google.cloud.kms.v1.KeyManagementService';
/** How often scheduled destructions and rotations are applied while nobody is calling. */
const SETTLE_INTERVAL_MS = 30_000;
/** How long close() lets in-flight calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 2_000;

let cachedDefinition: ServiceDefinition | undefined;

/**
 * Loads the KeyManagementService definition from the protos @google-cloud/kms ships, with the
 * google/api, google/protobuf and google/longrunning imports resolved from google-gax (the
 * package @google-cloud/kms depends on), so the emulator always matches the client's version.
 */
function kmsServiceDefinition(): ServiceDefinition {
  if (cachedDefinition) return cachedDefinition;
  const kmsEntry = require.resolve('@google-cloud/kms');
  const gaxEntry = createRequire(kmsEntry).resolve('google-gax');
  const includeDirs = [
    join(dirname(kmsEntry), '..', 'protos'),
    join(dirname(gaxEntry), '..', 'protos'),
  ];
  const packageDefinition: PackageDefinition = loadSync('google/cloud/kms/v1/service.proto', {
    includeDirs,
    keepCase: false,
    longs: String,
    enums: String,
    // Without defaults, fields the client did not send stay absent, which is how the
    // emulator tells "no checksum supplied" from "checksum 0".
    defaults: false,
    oneofs: false,
  });
  const service = packageDefinition[SERVICE_NAME];
  if (service === undefined || 'format' in service) {
    throw new Error(`${SERVICE_NAME} not found in the @google-cloud/kms protos`);
  }
  cachedDefinition = service;
  return cachedDefinition;
}

function unary<Request, Response>(
  service: KmsService,
  handler: (request: Request) => Response,
): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    try {
      service.settle();
      callback(null, handler(call.request));
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

/**
 * Starts the KMS emulator on `host:port` with its state in `dataDir`, and resolves once it
 * accepts connections. The state written by an earlier run on the same folder is picked up,
 * so ciphertexts from before a restart still decrypt.
 */
export async function startKmsEmulator(options: KmsEmulatorOptions): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const service = new KmsService({ dataDir: options.dataDir, state: loadState(options.dataDir) });
  service.settle();

  const server = new Server();
  server.addService(kmsServiceDefinition(), implementation(service));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
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
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
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
