/**
 * Body readers for route declarations, over the bytes the router read (`request-body.ts`).
 * They differ on purpose, and each route keeps the one it has always had: `jsonObject` answers
 * 415 for anything but JSON, `optionalJsonObject` also takes an absent body as `{}`, and
 * `parsedBody` hands the schema whatever was sent, under any Content-Type. What is common:
 * JSON that does not parse is a 400 `invalid_json` (in the typed error body, like every other
 * bad input), and the schema's verdict a 400 `invalid_request` with details.
 */
import { MIMEType } from 'node:util';
import type { z } from 'zod';
import { badRequest, unsupportedMediaType } from '../errors';
import type { BodyReader, ReceivedBody } from './route';

/** `type/subtype` of a Content-Type header, lower case; undefined when absent or unparseable. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  try {
    return new MIMEType(contentType).essence;
  } catch {
    return undefined;
  }
}

function charsetOf(contentType: string | undefined): string | undefined {
  try {
    return new MIMEType(contentType ?? '').params.get('charset')?.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The JSON value of a body. As body-parser did, an empty body reads as `{}`; JSON is UTF-8
 * (RFC 8259 §8.1), so another declared charset is a 415. The parser's own message is never
 * returned: it quotes the body.
 */
export function jsonValue(body: ReceivedBody): unknown {
  const charset = charsetOf(body.contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw unsupportedMediaType('JSON bodies are UTF-8');
  }
  if (body.bytes.length === 0) return {};
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body.bytes);
  } catch {
    throw badRequest('invalid_json', 'the request body is not UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('invalid_json', 'the request body is not valid JSON');
  }
}

/** True for `application/json`, whatever its parameters. */
export function isJson(body: ReceivedBody): boolean {
  return body.mediaType === 'application/json';
}

/** The body as sent under `Content-Type: application/json`, which must be an object. */
function objectBody(body: ReceivedBody): unknown {
  if (!isJson(body)) throw unsupportedMediaType('send the request as application/json');
  return jsonObjectValue(body);
}

/** A JSON body that must be an object (not an array, a string, a number or null). */
export function jsonObjectValue(body: ReceivedBody): unknown {
  const value = jsonValue(body);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('invalid_request', 'the request body must be a JSON object');
  }
  return value;
}

/** A JSON object body: 415 unless the request is JSON, 400 unless the body is an object. */
export function jsonObject<S extends z.ZodType>(schema: S): BodyReader<z.output<S>> {
  return {
    content: { 'application/json': schema },
    required: true,
    read: (body) => schema.parse(objectBody(body)),
  };
}

/** Like `jsonObject`, but a request without a body reads as `{}`. */
export function optionalJsonObject<S extends z.ZodType>(schema: S): BodyReader<z.output<S>> {
  return {
    content: { 'application/json': schema },
    required: false,
    read: (body) => schema.parse(body.bytes.length === 0 ? {} : objectBody(body)),
  };
}

/**
 * The body validated by `schema` whatever the Content-Type: JSON as its value, any other type
 * as its text (as the framework's parsers gave it), so the schema decides and a body that is
 * not JSON is a 400 `invalid_request`, not a 415.
 */
export function parsedBody<S extends z.ZodType>(schema: S): BodyReader<z.output<S>> {
  return {
    content: { 'application/json': schema },
    required: true,
    read: (body) =>
      schema.parse(
        isJson(body)
          ? jsonValue(body)
          : body.bytes.length === 0
            ? undefined
            : body.bytes.toString('utf8'),
      ),
  };
}
