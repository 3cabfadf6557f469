/**
 * multipart/form-data, read with busboy from the body the framework has already buffered.
 * Every malformed body is a 400 `invalid_multipart`: no boundary, a truncated body, a malformed
 * part header, a part busboy would skip (no `Content-Disposition: form-data`), a part without a
 * name, more than MAX_PARTS parts. A limit reached is an error, never silently shortened data.
 *
 * busboy's events leave out two things a caller may need, so the delimiters are also walked
 * here (with `Buffer.indexOf`, after busboy accepted the body): how many parts there are (busboy
 * skips a part without a form-data disposition, and says nothing), and each part's own
 * Content-Type header (busboy reports `text/plain` alike for none, `text/plain` and an
 * unparseable one).
 */
import { MIMEType } from 'node:util';
import busboy from 'busboy';
import { badRequest } from '../errors';

export const MAX_PARTS = 16;
/** Of one part's header block (busboy's own bound is 16 KiB). */
const MAX_HEADER_BYTES = 8192;

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  /** The part's Content-Type header as sent, or undefined when it has none. */
  contentType: string | undefined;
  /**
   * The bytes as sent. A text part that declares a charset comes as its text in UTF-8, and so
   * does any text part not named in `readMultipart`'s `binary`.
   */
  data: Buffer;
}

function invalid(message: string): Error {
  return badRequest('invalid_multipart', message);
}

/** busboy's errors, in the words of this API. */
const PROBLEMS: Record<string, string> = {
  'Unexpected end of form': 'the body ends before its closing boundary',
  'Unexpected end of file': 'the body ends inside a part',
  'Malformed part header': 'malformed part header',
};

function problemOf(err: unknown): string {
  return (err instanceof Error ? PROBLEMS[err.message] : undefined) ?? 'malformed multipart body';
}

/** RFC 2046: 1 to 70 characters. */
function boundaryOf(contentType: string): string {
  let boundary: string | null = null;
  try {
    boundary = new MIMEType(contentType).params.get('boundary');
  } catch {
    // An unparseable Content-Type has no boundary either.
  }
  if (!boundary || boundary.length > 70) {
    throw invalid('multipart/form-data needs a boundary');
  }
  return boundary;
}

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

/**
 * The Content-Type header of each part of a body that starts with `--boundary`, walking the
 * delimiters as busboy does (CRLF `--boundary`, up to the closing `--boundary--`). A delimiter
 * followed by anything but CRLF or `--` is malformed, and so is a header block over 8 KiB.
 */
function partTypes(body: Buffer, boundary: string): (string | undefined)[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const types: (string | undefined)[] = [];
  let next = delimiter.length - 2;
  for (;;) {
    if (body[next] === DASH && body[next + 1] === DASH) return types;
    if (body[next] !== CR || body[next + 1] !== LF) throw invalid('malformed boundary line');
    // From the delimiter's own CRLF, so that a part without headers has an empty block.
    const headersEnd = body.indexOf('\r\n\r\n', next, 'latin1');
    if (headersEnd - (next + 2) > MAX_HEADER_BYTES) throw invalid('malformed part headers');
    const headers = body.toString('latin1', next + 2, Math.max(headersEnd, next + 2));
    const type = headers
      .split('\r\n')
      .map((line) => /^content-type\s*:(.*)$/i.exec(line)?.[1]?.trim())
      .filter((value) => value !== undefined)
      .pop();
    types.push(type);
    const at = body.indexOf(delimiter, next);
    // No closing delimiter: busboy has refused the body already.
    if (at === -1) return types;
    next = at + delimiter.length;
  }
}

interface RawPart {
  name: string | undefined;
  filename: string | undefined;
  /** A part busboy streams as a file (a filename, or application/octet-stream): its bytes. */
  chunks?: Buffer[];
  /** A part busboy decodes as text; undefined when its declared charset is unknown. */
  text?: string | undefined;
}

interface Parsed {
  parts: RawPart[];
  problem?: string;
}

/**
 * One busboy pass over the whole body; resolves once busboy is done (it waits for every file
 * stream to end), with the first problem seen. `defCharset` decodes text parts that declare none.
 */
function parse(body: Buffer, contentType: string, defCharset: string): Promise<Parsed> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      defCharset,
      // One more than allowed: `partsLimit` then means there are too many. The size limits
      // cannot be reached inside a body of this size; reaching one is still an error below.
      limits: { parts: MAX_PARTS + 1, fileSize: body.length, fieldSize: body.length },
    });
  } catch {
    return Promise.resolve({ parts: [], problem: 'multipart/form-data needs a boundary' });
  }
  return new Promise((resolve) => {
    const parts: RawPart[] = [];
    let problem: string | undefined;
    const fail = (message: string) => {
      problem ??= message;
    };
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      parts.push({ name, filename: info.filename, chunks });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        fail('a part is larger than the body allows');
      });
      stream.on('error', (err) => {
        fail(problemOf(err));
      });
    });
    parser.on('field', (name, value, info) => {
      parts.push({ name, filename: undefined, text: value });
      if (info.valueTruncated || info.nameTruncated) fail('a part is larger than the body allows');
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      parser.on(limit, () => {
        fail(`at most ${String(MAX_PARTS)} parts`);
      });
    }
    parser.on('error', (err) => {
      fail(problemOf(err));
    });
    parser.on('close', () => {
      resolve(problem === undefined ? { parts } : { parts, problem });
    });
    parser.end(body);
  });
}

/**
 * The parts of a multipart/form-data body, in order. busboy hands over the bytes of a part only
 * when it looks like a file (a filename, or application/octet-stream) and decodes any other as
 * text; the parts named in `binary` are then read again, with base64 as the default charset, to
 * get their bytes back.
 */
export async function readMultipart(
  sent: Buffer,
  contentType: string,
  binary: readonly string[] = [],
): Promise<MultipartPart[]> {
  const boundary = boundaryOf(contentType);
  // Whatever precedes the first delimiter is preamble, with or without the CRLF busboy wants.
  const start = sent.indexOf(`--${boundary}`, 0, 'latin1');
  if (start === -1) throw invalid('the body has no multipart boundary');
  const body = sent.subarray(start);
  const first = await parse(body, contentType, 'utf8');
  if (first.problem !== undefined) throw invalid(first.problem);
  const types = partTypes(body, boundary);
  if (types.length !== first.parts.length) {
    throw invalid('every part needs Content-Disposition: form-data');
  }
  const needsBytes = first.parts.some(
    (p) => p.text !== undefined && p.name !== undefined && binary.includes(p.name),
  );
  const second = needsBytes ? await parse(body, contentType, 'base64') : undefined;
  return first.parts.map((part, i) => {
    if (!part.name) throw invalid('every part needs a name');
    const base = { name: part.name, filename: part.filename, contentType: types[i] };
    if (part.chunks) return { ...base, data: Buffer.concat(part.chunks) };
    if (part.text === undefined) {
      throw badRequest('invalid_request', 'a form field declares a charset that cannot be read');
    }
    const again = second?.parts[i]?.text;
    // The same text under another default charset: the part declares its own.
    const data =
      binary.includes(part.name) && again !== undefined && again !== part.text
        ? Buffer.from(again, 'base64')
        : Buffer.from(part.text, 'utf8');
    return { ...base, data };
  });
}
