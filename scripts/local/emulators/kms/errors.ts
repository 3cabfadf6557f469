import { status } from '@grpc/grpc-js';

/** A failure the emulator reports to the client with a specific gRPC status, as KMS would. */
export class KmsError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'KmsError';
  }
}

/** The request itself is wrong: malformed name, bad field, checksum mismatch, failed decryption. */
export const invalidArgument = (message: string): KmsError =>
  new KmsError(status.INVALID_ARGUMENT, message);
/** The named key ring, key or version does not exist. */
export const notFound = (message: string): KmsError => new KmsError(status.NOT_FOUND, message);
/** A key ring or key with that id exists already. */
export const alreadyExists = (message: string): KmsError =>
  new KmsError(status.ALREADY_EXISTS, message);
/** The resource exists but its state or purpose forbids the operation. */
export const failedPrecondition = (message: string): KmsError =>
  new KmsError(status.FAILED_PRECONDITION, message);
/** The caller lacks the IAM permission (or the resource is in a project it cannot see). */
export const permissionDenied = (message: string): KmsError =>
  new KmsError(status.PERMISSION_DENIED, message);
/** A policy write raced another one (its etag no longer matches), as IAM answers it. */
export const aborted = (message: string): KmsError => new KmsError(status.ABORTED, message);
/** Valid in KMS, but outside what the emulator implements. */
export const unimplemented = (message: string): KmsError =>
  new KmsError(status.UNIMPLEMENTED, message);
