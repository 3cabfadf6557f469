import { parseError } from './errors';

/** One body part of a `multipart/related` upload. */
export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** Extracts the `boundary` parameter of a multipart Content-Type, quoted or not. */
export function multipartBoundary(contentType: string | undefined): string {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!match || !/^multipart\//i.test(contentType ?? '') || !boundary) {
    throw parseError(
      'A multipart upload needs a Content-Type of multipart/related with a boundary.',
    );
  }
  return boundary;
}

/**
 * Splits a buffered `multipart/related` body (RFC 2046). The CRLF before each delimiter belongs to
 * the delimiter, so media bytes that end in CRLF survive intact.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const crlfDelimiter = Buffer.from(`\r\n--${boundary}`);
  let cursor = body.indexOf(delimiter);
  if (cursor !== 0 && cursor !== -1) {
    // A preamble is allowed; the first real delimiter must then follow a CRLF.
    cursor = body.indexOf(crlfDelimiter);
    if (cursor !== -1) cursor += 2;
  }
  if (cursor === -1) throw parseError('Multipart body has no boundary delimiter.');
  const parts: MultipartPart[] = [];
  for (;;) {
    cursor += delimiter.length;
    if (body.subarray(cursor, cursor + 2).toString('latin1') === '--') return parts;
    const headerStart = body.indexOf('\r\n', cursor);
    if (headerStart === -1) throw parseError('Multipart body ends inside a delimiter line.');
    const headerEnd = body.indexOf('\r\n\r\n', headerStart);
    if (headerEnd === -1) throw parseError('Multipart part has no header terminator.');
    const next = body.indexOf(crlfDelimiter, headerEnd + 4);
    if (next === -1) throw parseError('Multipart body has no closing delimiter.');
    const headers: Record<string, string> = {};
    for (const line of body
      .subarray(headerStart + 2, headerEnd)
      .toString('latin1')
      .split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw parseError('Malformed multipart part header.');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: body.subarray(headerEnd + 4, next) });
    cursor = next + 2;
  }
}
