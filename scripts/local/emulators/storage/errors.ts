/**
 * Errors in the JSON shape Cloud Storage uses, so `@google-cloud/storage` turns them into an
 * `ApiError` whose `code`, `message` and `errors[0].reason` match what production returns.
 */
export class GcsError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'GcsError';
  }

  /** The body production sends: `{"error":{"code","message","errors":[{message,domain,reason}]}}`. */
  toJSON(): {
    error: {
      code: number;
      message: string;
      errors: { message: string; domain: string; reason: string }[];
    };
  } {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason }],
      },
    };
  }
}

/** 400 with reason `invalid`, the reason GCS gives most argument errors. */
export function invalid(message: string): GcsError {
  return new GcsError(400, 'invalid', message);
}

/** 400 with reason `required`: a mandatory parameter is absent. */
export function required(message: string): GcsError {
  return new GcsError(400, 'required', message);
}

/** 400 for a body that is not the JSON (or multipart) the endpoint needs. */
export function parseError(message = 'Parse Error'): GcsError {
  return new GcsError(400, 'parseError', message);
}

export function bucketNotFound(): GcsError {
  return new GcsError(404, 'notFound', 'The specified bucket does not exist.');
}

export function objectNotFound(bucket: string, name: string): GcsError {
  return new GcsError(404, 'notFound', `No such object: ${bucket}/${name}`);
}

export function conditionNotMet(): GcsError {
  return new GcsError(
    412,
    'conditionNotMet',
    'At least one of the pre-conditions you specified did not hold.',
  );
}

export function forbidden(message: string): GcsError {
  return new GcsError(403, 'forbidden', message);
}

export function conflict(message: string): GcsError {
  return new GcsError(409, 'conflict', message);
}

/**
 * 501 for API surface this emulator does not model. Failing loudly beats silently ignoring a
 * field such as `temporaryHold`, which a caller would then believe protects its object.
 */
export function notImplemented(what: string): GcsError {
  return new GcsError(
    501,
    'notImplemented',
    `The local Cloud Storage emulator does not implement ${what}.`,
  );
}
