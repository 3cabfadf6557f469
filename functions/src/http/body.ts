/**
 * Body readers for route declarations. They differ on purpose, and each route keeps the one it
 * has always had: `jsonObject` answers 415 for anything but JSON, `optionalJsonObject` also
 * takes an absent body as `{}`, and `parsedBody` validates whatever the framework parsed, under
 * any Content-Type. Only the schema's verdict is common: a 400 `invalid_request` with details.
 */
import type { Request } from '@google-cloud/functions-framework';
import type { z } from 'zod';
import { badRequest, unsupportedMediaType } from '../errors';
import type { BodyReader } from './route';

function isEmpty(req: Request): boolean {
  const raw: unknown = req.body;
  return (
    raw === undefined ||
    raw === '' ||
    (Buffer.isBuffer(raw) && raw.length === 0) ||
    (!req.is('application/json') && Number(req.get('content-length') ?? '0') === 0)
  );
}

/** The body as sent under `Content-Type: application/json`, which must be an object. */
function objectBody(req: Request): unknown {
  if (!req.is('application/json'))
    throw unsupportedMediaType('send the request as application/json');
  const raw: unknown = req.body;
  if (raw === null || typeof raw !== 'object' || Buffer.isBuffer(raw) || Array.isArray(raw)) {
    throw badRequest('invalid_request', 'the request body must be a JSON object');
  }
  return raw;
}

/** A JSON object body: 415 unless the request is JSON, 400 unless the body is an object. */
export function jsonObject<S extends z.ZodType>(schema: S): BodyReader<z.output<S>> {
  return {
    content: { 'application/json': schema },
    required: true,
    read: (req) => schema.parse(objectBody(req)),
  };
}

/** Like `jsonObject`, but a request without a body reads as `{}`. */
export function optionalJsonObject<S extends z.ZodType>(schema: S): BodyReader<z.output<S>> {
  return {
    content: { 'application/json': schema },
    required: false,
    read: (req) => schema.parse(isEmpty(req) ? {} : objectBody(req)),
  };
}

/** The framework's parsed body as it is, whatever the Content-Type, validated by `schema`. */
export function parsedBody<S extends z.ZodType>(schema: S): BodyReader<z.output<S>> {
  return {
    content: { 'application/json': schema },
    required: true,
    read: (req) => schema.parse(req.body),
  };
}
