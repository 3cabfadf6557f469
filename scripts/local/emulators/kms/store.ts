// The emulator's persistent state: one JSON document in the data folder, replaced atomically
// (write a temp file, fsync, rename) after every change, so a crash leaves either the old or
// the new state and a restarted emulator decrypts what it encrypted before.
//
// Key material is stored IN CLEAR in that file (base64 AES keys, PKCS#8 PEM private keys).
// This is an emulator for local development and tests; real KMS never releases key material.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { IamState } from './iam';
import type { CryptoKeyPurpose, CryptoKeyVersionState, ProtectionLevel } from './messages';

/** A key ring as persisted. */
export interface StoredKeyRing {
  name: string;
  /** Epoch milliseconds, like every time in this file. */
  createTime: number;
}

/** A crypto key as persisted; its versions are stored separately under their full names. */
export interface StoredCryptoKey {
  name: string;
  purpose: CryptoKeyPurpose;
  algorithm: string;
  protectionLevel: ProtectionLevel;
  createTime: number;
  labels: Record<string, string>;
  rotationPeriodMs?: number;
  nextRotationTime?: number;
  destroyScheduledDurationMs: number;
  primaryVersionId?: number;
  /** Version ids are never reused, even after destruction, so the counter lives on the key. */
  nextVersionId: number;
}

/** A key version as persisted, key material included until it is destroyed. */
export interface StoredVersion {
  name: string;
  cryptoKey: string;
  id: number;
  state: CryptoKeyVersionState;
  algorithm: string;
  protectionLevel: ProtectionLevel;
  createTime: number;
  /** When the key material was (or, while PENDING_GENERATION, will be) generated. */
  generateTime: number;
  destroyTime?: number;
  destroyEventTime?: number;
  /** Base64 AES-256 key or PKCS#8 PEM; removed when the version reaches DESTROYED. */
  material?: string;
}

/** The whole persisted document, every map keyed by full resource name. */
export interface KmsState {
  format: 1;
  keyRings: Record<string, StoredKeyRing>;
  cryptoKeys: Record<string, StoredCryptoKey>;
  versions: Record<string, StoredVersion>;
  /** Project owners and key ring / key policies; absent in state written before IAM existed. */
  iam?: IamState;
}

/** File name of the state document inside the data folder. */
export const STATE_FILE = 'kms-state.json';

function emptyState(): KmsState {
  return { format: 1, keyRings: {}, cryptoKeys: {}, versions: {} };
}

function isKmsState(value: unknown): value is KmsState {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<KmsState>;
  return (
    candidate.format === 1 &&
    typeof candidate.keyRings === 'object' &&
    typeof candidate.cryptoKeys === 'object' &&
    typeof candidate.versions === 'object'
  );
}

/** Reads the state from `dataDir`, or starts empty when the folder holds none yet. */
export function loadState(dataDir: string): KmsState {
  mkdirSync(dataDir, { recursive: true });
  let text: string;
  try {
    text = readFileSync(join(dataDir, STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  // Refusing an unknown document beats silently starting empty and losing every key.
  if (!isKmsState(parsed))
    throw new Error(`${join(dataDir, STATE_FILE)} is not a KMS emulator state file`);
  return parsed;
}

/** Replaces the state file atomically. */
export function saveState(dataDir: string, state: KmsState): void {
  const target = join(dataDir, STATE_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
}
