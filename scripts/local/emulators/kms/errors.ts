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

export const invalidArgument = (message: string): KmsError =>
  new KmsError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string): KmsError => new KmsError(status.NOT_FOUND, message);
export const alreadyExists = (message: string): KmsError =>
  new KmsError(status.ALREADY_EXISTS, message);
export const failedPrecondition = (message: string): KmsError =>
  new KmsError(status.FAILED_PRECONDITION, message);
export const unimplemented = (message: string): KmsError =>
  new KmsError(status.UNIMPLEMENTED, message);
