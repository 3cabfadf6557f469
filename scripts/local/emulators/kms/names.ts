import { invalidArgument } from './errors';

// KMS resource ids for key rings and keys: letters, digits, `_` and `-`, 1 to 63 characters.
const RESOURCE_ID = /^[a-zA-Z0-9_-]{1,63}$/;
const SEGMENT = '([^/]+)';
const LOCATION_NAME = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}$`);
const KEY_RING_NAME = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}/keyRings/${SEGMENT}$`);
const CRYPTO_KEY_NAME = new RegExp(
  `^projects/${SEGMENT}/locations/${SEGMENT}/keyRings/${SEGMENT}/cryptoKeys/${SEGMENT}$`,
);
const VERSION_NAME = new RegExp(
  `^projects/${SEGMENT}/locations/${SEGMENT}/keyRings/${SEGMENT}/cryptoKeys/${SEGMENT}/cryptoKeyVersions/${SEGMENT}$`,
);

/** A parsed `projects/*\/locations/*\/keyRings/*\/cryptoKeys/*\/cryptoKeyVersions/*` name. */
export interface VersionName {
  readonly cryptoKey: string;
  readonly versionId: number;
}

/** Checks a new key ring or key id the way KMS does before it looks at anything else. */
export function checkResourceId(id: string | undefined, field: string): string {
  if (id === undefined || !RESOURCE_ID.test(id)) {
    throw invalidArgument(
      `${field} must match the pattern [a-zA-Z0-9_-]{1,63}; got '${id ?? ''}'.`,
    );
  }
  return id;
}

/** `projects/P/locations/L`. */
export function checkLocationName(name: string | undefined, field = 'parent'): string {
  return checkPattern(name, LOCATION_NAME, field, 'projects/*/locations/*');
}

/** `projects/P/locations/L/keyRings/R`. */
export function checkKeyRingName(name: string | undefined, field = 'name'): string {
  return checkPattern(name, KEY_RING_NAME, field, 'projects/*/locations/*/keyRings/*');
}

/** `projects/P/locations/L/keyRings/R/cryptoKeys/K`. */
export function checkCryptoKeyName(name: string | undefined, field = 'name'): string {
  return checkPattern(
    name,
    CRYPTO_KEY_NAME,
    field,
    'projects/*/locations/*/keyRings/*/cryptoKeys/*',
  );
}

/** True when `name` has the shape of a key version name (Encrypt accepts either shape). */
export function isVersionName(name: string): boolean {
  return VERSION_NAME.test(name);
}

/** Splits a key version name; the version id must be a positive integer, as KMS assigns them. */
export function parseVersionName(name: string | undefined, field = 'name'): VersionName {
  const checked = checkPattern(
    name,
    VERSION_NAME,
    field,
    'projects/*/locations/*/keyRings/*/cryptoKeys/*/cryptoKeyVersions/*',
  );
  const slash = checked.lastIndexOf('/cryptoKeyVersions/');
  const id = checked.slice(slash + '/cryptoKeyVersions/'.length);
  if (!/^[1-9][0-9]{0,9}$/.test(id)) {
    throw invalidArgument(`${field}: '${id}' is not a valid CryptoKeyVersion id.`);
  }
  return { cryptoKey: checked.slice(0, slash), versionId: Number(id) };
}

/** The full name of version `versionId` of `cryptoKey`. */
export function versionName(cryptoKey: string, versionId: number): string {
  return `${cryptoKey}/cryptoKeyVersions/${versionId}`;
}

function checkPattern(
  name: string | undefined,
  pattern: RegExp,
  field: string,
  shape: string,
): string {
  if (name === undefined || name === '') throw invalidArgument(`${field} is required.`);
  if (!pattern.test(name)) {
    throw invalidArgument(`${field} '${name}' is malformed; expected ${shape}.`);
  }
  return name;
}
