/**
 * One error hierarchy for every function: an HTTP status and a stable string code that clients
 * can branch on. Messages are written for the caller and never carry customer content.
 */
export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const unauthenticated = (code: string, message: string) =>
  new AppError(401, code, message, undefined, { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
/** Identical for "never existed" and "belongs to another tenant": existence is not revealed. */
export const notFound = (resource: string) =>
  new AppError(404, 'not_found', `${resource} not found`);
export const conflict = (code: string, message: string, details?: unknown) =>
  new AppError(409, code, message, details);
export const payloadTooLarge = (message: string) => new AppError(413, 'payload_too_large', message);
export const unsupportedMediaType = (message: string) =>
  new AppError(415, 'unsupported_media_type', message);
export const unprocessable = (code: string, message: string, details?: unknown) =>
  new AppError(422, code, message, details);
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', 'too many requests', undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

/** A failure of ours or of a dependency; its cause is logged, never returned. */
export class InternalError extends AppError {
  override readonly name = 'InternalError';
  constructor(
    code = 'internal',
    message = 'internal error',
    override readonly cause?: unknown,
  ) {
    super(500, code, message);
  }
}
