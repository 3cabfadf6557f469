/**
 * What a document is and how the model gets to read it. Every accepted type is checked against
 * its magic bytes (a declared type is a claim, not a fact), and the same function that decides
 * acceptance at submit time turns the decrypted original into the provider input in the worker,
 * so the two can never disagree about what a document says.
 */
import {
  AppError,
  badRequest,
  payloadTooLarge,
  unprocessable,
  unsupportedMediaType,
} from '../errors';

export const SUPPORTED_CONTENT_TYPES = [
  'text/plain',
  'application/pdf',
  'image/png',
  'image/jpeg',
] as const;
export type DocumentContentType = (typeof SUPPORTED_CONTENT_TYPES)[number];
export type ImageContentType = Extract<DocumentContentType, `image/${string}`>;

/** What the provider adapters send: text in the user message, or one image part. */
export type DocumentInput =
  { kind: 'text'; text: string } | { kind: 'image'; mediaType: ImageContentType; base64: string };

export interface DocumentLimits {
  MAX_DOCUMENT_BYTES: number;
  MAX_PDF_PAGES: number;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const PDF = Buffer.from('%PDF-', 'latin1');

/** `Text/Plain; charset=utf-8` → `text/plain`; anything unsupported → 415. */
export function normalizeContentType(declared: string): DocumentContentType {
  const type = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  const canonical = type === 'image/jpg' ? 'image/jpeg' : type;
  if (!(SUPPORTED_CONTENT_TYPES as readonly string[]).includes(canonical)) {
    throw unsupportedMediaType(
      `document.contentType must be one of: ${SUPPORTED_CONTENT_TYPES.join(', ')}`,
    );
  }
  return canonical as DocumentContentType;
}

/** The type the bytes themselves announce, or `text/plain` for valid UTF-8 without NULs. */
export function sniffContentType(bytes: Buffer): DocumentContentType | 'unknown' {
  if (bytes.subarray(0, PNG.length).equals(PNG)) return 'image/png';
  if (bytes.subarray(0, JPEG.length).equals(JPEG)) return 'image/jpeg';
  // A PDF header may sit anywhere in the first 1024 bytes; readers accept it there.
  const head = bytes.subarray(0, 1024).indexOf(PDF);
  if (head !== -1) return 'application/pdf';
  if (isUtf8Text(bytes)) return 'text/plain';
  return 'unknown';
}

function isUtf8Text(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Size, emptiness and type checks that need no parsing: 413 over the limit, 400 when empty,
 * 422 `content_type_mismatch` when the bytes are not what the declared type says.
 */
export function checkDocumentBytes(
  bytes: Buffer,
  contentType: DocumentContentType,
  limits: DocumentLimits,
): void {
  if (bytes.length > limits.MAX_DOCUMENT_BYTES) {
    throw payloadTooLarge(`document exceeds ${String(limits.MAX_DOCUMENT_BYTES)} bytes`);
  }
  if (bytes.length === 0) throw badRequest('empty_document', 'document is empty');
  const sniffed = sniffContentType(bytes);
  // A text file may legitimately start like anything printable, but never like a binary type.
  if (sniffed !== contentType) {
    throw unprocessable('content_type_mismatch', `the document's bytes are not ${contentType}`, {
      declared: contentType,
      detected: sniffed,
    });
  }
}

/** Text layer of a PDF, one string per page. Throws 422 for unreadable or oversized PDFs. */
export async function pdfPages(bytes: Buffer, maxPages: number): Promise<string[]> {
  const { getDocumentProxy, extractText } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A copy: pdf.js transfers (detaches) the buffer it is given.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch {
    throw unprocessable('document_unreadable', 'the PDF cannot be read');
  }
  try {
    if (pdf.numPages > maxPages) {
      throw unprocessable(
        'too_many_pages',
        `the PDF has ${String(pdf.numPages)} pages; at most ${String(maxPages)} are accepted`,
      );
    }
    const { text } = await extractText(pdf, { mergePages: false });
    return text;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw unprocessable('document_unreadable', 'the PDF cannot be read');
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

/** Pages joined by form feeds, so page boundaries survive into the text the model reads. */
export async function pdfText(bytes: Buffer, maxPages: number): Promise<string> {
  const pages = await pdfPages(bytes, maxPages);
  const text = pages.join('\n\f\n');
  if (text.replace(/\s/g, '') === '') {
    throw unprocessable(
      'document_unreadable',
      'the PDF has no text layer (scanned pages must be sent as PNG or JPEG images)',
    );
  }
  return text;
}

/**
 * The provider input for a document and the text its quotes are grounded in: the text itself,
 * the PDF's text layer, or (for images) the image with no text to ground against.
 */
export async function documentInput(
  bytes: Buffer,
  contentType: string,
  limits: Pick<DocumentLimits, 'MAX_PDF_PAGES'>,
): Promise<{ input: DocumentInput; documentText: string }> {
  const type = normalizeContentType(contentType);
  switch (type) {
    case 'text/plain': {
      const text = bytes.toString('utf8');
      return { input: { kind: 'text', text }, documentText: text };
    }
    case 'application/pdf': {
      const text = await pdfText(bytes, limits.MAX_PDF_PAGES);
      return { input: { kind: 'text', text }, documentText: text };
    }
    case 'image/png':
    case 'image/jpeg':
      return {
        input: { kind: 'image', mediaType: type, base64: bytes.toString('base64') },
        documentText: '',
      };
  }
}

/** Every check a document must pass before anything is written, parsing PDFs included. */
export async function validateDocument(
  bytes: Buffer,
  declaredType: string,
  limits: DocumentLimits,
): Promise<DocumentContentType> {
  const type = normalizeContentType(declaredType);
  checkDocumentBytes(bytes, type, limits);
  if (type === 'application/pdf') await pdfText(bytes, limits.MAX_PDF_PAGES);
  return type;
}
