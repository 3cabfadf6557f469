/**
 * What a document is and how the model gets to read it. Every accepted type is checked against
 * its magic bytes (a declared type is a claim, not a fact), and the same function that decides
 * acceptance at submit time turns the decrypted original into the provider input in the worker,
 * so the two can never disagree about what a document says. A PDF is read in a worker thread
 * of its own, within a heap, a decoded-bytes budget and a deadline (`pdf-worker.ts`): a PDF
 * bomb costs its own thread a bounded amount and never the requests of other tenants.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import {
  AppError,
  badRequest,
  InternalError,
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

/** What the PDF worker thread is given (`pdf-worker.ts`). */
export interface PdfJob {
  bytes: Uint8Array;
  maxPages: number;
  /** Every typed array pdf.js allocates counts, decoded stream data above all. */
  maxDecodedBytes: number;
  /** How the thread ends when it goes over `maxDecodedBytes`. */
  tooComplexExitCode: number;
}

/** What the PDF worker thread answers. */
export type PdfOutcome =
  | { kind: 'text'; pages: string[] }
  | { kind: 'too_many_pages'; pages: number }
  | { kind: 'unreadable' };

const PdfOutcomeSchema: z.ZodType<PdfOutcome> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), pages: z.array(z.string()) }),
  z.object({ kind: z.literal('too_many_pages'), pages: z.number() }),
  z.object({ kind: z.literal('unreadable') }),
]);

/** What one PDF may cost to read. */
export interface PdfReadLimits {
  /** Bytes pdf.js may allocate in typed arrays: decoded streams, fonts, the file's own copy. */
  maxDecodedBytes: number;
  /** The worker thread's V8 old generation (text items, operators, parsed objects). */
  maxHeapMb: number;
  /** From the thread's start to its answer. */
  deadlineMs: number;
}

/**
 * Invoices and receipts decode to a few MiB; 64 MiB of typed arrays (a single stream of up to
 * about 32 MiB, since decoders grow their buffer by doubling) and a 64 MiB heap leave them
 * ample room, and keep a bomb's thread near 170 MiB in all (the isolate adds some 40 MiB).
 * The deadline is far above the second or so a real document takes on a loaded instance.
 */
export const PDF_READ_LIMITS: PdfReadLimits = {
  maxDecodedBytes: 64 * 1024 * 1024,
  maxHeapMb: 64,
  deadlineMs: 15_000,
};

/** PDF reads at once in one process: with the limits above, what a burst of bombs may cost. */
const MAX_CONCURRENT_PDF_READS = 2;
const TOO_COMPLEX_EXIT_CODE = 3;

/**
 * The worker thread's file: compiled JavaScript beside this file in `build/`; under ts-jest
 * this file is the TypeScript source, and Node 22 (which strips types since 22.18) runs the
 * worker's TypeScript source as it is.
 */
const PDF_WORKER = path.join(__dirname, `pdf-worker${path.extname(__filename)}`);

let readsRunning = 0;
const readsWaiting: (() => void)[] = [];

async function withReadSlot<T>(read: () => Promise<T>): Promise<T> {
  if (readsRunning >= MAX_CONCURRENT_PDF_READS) {
    await new Promise<void>((resolve) => readsWaiting.push(resolve));
  } else {
    readsRunning++;
  }
  try {
    return await read();
  } finally {
    const next = readsWaiting.shift();
    // The slot passes straight to the next waiter; only without one does it free up.
    if (next) next();
    else readsRunning--;
  }
}

function tooComplex(limit: 'decoded_bytes' | 'heap' | 'deadline'): AppError {
  return unprocessable(
    'document_too_complex',
    'the PDF needs more memory or time to read than a document may use',
    { limit },
  );
}

/**
 * One PDF read in its own worker thread: the thread's heap is bounded (`resourceLimits`), the
 * bytes pdf.js decodes are counted in the thread (`pdf-worker.ts`), and the thread is
 * terminated at the deadline. Whatever the PDF does, this process keeps its memory and its
 * event loop; the thread gets a copy of the bytes and an empty environment.
 */
function readInWorker(bytes: Buffer, maxPages: number, limits: PdfReadLimits): Promise<PdfOutcome> {
  return new Promise((resolve, reject) => {
    const copy = new Uint8Array(bytes);
    const job: PdfJob = {
      bytes: copy,
      maxPages,
      maxDecodedBytes: limits.maxDecodedBytes,
      tooComplexExitCode: TOO_COMPLEX_EXIT_CODE,
    };
    const worker = new Worker(PDF_WORKER, {
      workerData: job,
      transferList: [copy.buffer],
      env: {},
      resourceLimits: {
        maxOldGenerationSizeMb: limits.maxHeapMb,
        maxYoungGenerationSizeMb: 16,
        codeRangeSizeMb: 16,
        stackSizeMb: 4,
      },
      // Under ts-jest the worker is a .ts file in a package without "type"; Node warns that it
      // reparses it as an ES module. The compiled worker is CommonJS and never warns.
      execArgv: ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'],
    });
    let settled = false;
    const settle = (outcome: PdfOutcome | AppError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      void worker.terminate();
      if (outcome instanceof AppError) reject(outcome);
      else resolve(outcome);
    };
    const deadline = setTimeout(() => {
      settle(tooComplex('deadline'));
    }, limits.deadlineMs);
    worker.once('message', (message: unknown) => {
      const outcome = PdfOutcomeSchema.safeParse(message);
      settle(outcome.success ? outcome.data : new InternalError('pdf_worker_failed'));
    });
    worker.once('error', (err: Error & { code?: string }) => {
      settle(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? tooComplex('heap')
          : new InternalError('pdf_worker_failed', 'internal error', err),
      );
    });
    worker.once('exit', (code) => {
      settle(
        code === TOO_COMPLEX_EXIT_CODE
          ? tooComplex('decoded_bytes')
          : new InternalError(
              'pdf_worker_failed',
              'internal error',
              new Error(`exit ${String(code)}`),
            ),
      );
    });
  });
}

/**
 * Text layer of a PDF, one string per page, read in a worker thread within `limits`. Throws
 * 422 `document_unreadable`, `too_many_pages` or `document_too_complex`.
 */
export async function pdfPages(
  bytes: Buffer,
  maxPages: number,
  limits: PdfReadLimits = PDF_READ_LIMITS,
): Promise<string[]> {
  const outcome = await withReadSlot(() => readInWorker(bytes, maxPages, limits));
  switch (outcome.kind) {
    case 'text':
      return outcome.pages;
    case 'too_many_pages':
      throw unprocessable(
        'too_many_pages',
        `the PDF has ${String(outcome.pages)} pages; at most ${String(maxPages)} are accepted`,
      );
    case 'unreadable':
      throw unprocessable('document_unreadable', 'the PDF cannot be read');
  }
}

/** Pages joined by form feeds, so page boundaries survive into the text the model reads. */
export async function pdfText(
  bytes: Buffer,
  maxPages: number,
  limits: PdfReadLimits = PDF_READ_LIMITS,
): Promise<string> {
  const pages = await pdfPages(bytes, maxPages, limits);
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
