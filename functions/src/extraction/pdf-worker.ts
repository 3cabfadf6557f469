/**
 * The worker thread that reads one untrusted PDF's text layer (started by `pdfPages` in
 * `documents.ts`, one thread per document). A PDF is a small file that can describe enormous
 * work: a 200 KB page whose Flate stream inflates to hundreds of MiB took 462 MB inside the api.
 * Here the parse cannot reach the instance's other requests: the thread has its own V8 heap
 * (bounded by the parent's `resourceLimits`), a deadline (the parent terminates it), and a cap
 * on the bytes pdf.js decodes, enforced below at each allocation.
 *
 * Why the cap is enforced this way: decoded stream data lives in typed arrays, whose memory is
 * outside the V8 heap, so `resourceLimits` does not bound it, and pdf.js (4.x-6.x, bundled by
 * unpdf) has no option to cap a stream's decoded size. Every decoder's output buffer is created
 * with `new Uint8Array(n)` (`DecodeStream.ensureBuffer`; the JS brotli decoder uses Int8Array),
 * so this thread, which runs nothing but pdf.js, replaces the typed-array constructors with
 * proxies that charge each allocation against the budget before it is made. pdf.js also
 * inflates through the platform `DecompressionStream` when there is one, which allocates in
 * native code where nothing can count it; it is removed here, and pdf.js falls back to its own
 * decoders (its `asyncGetBytesFromDecompressionStream` catches the failure), which allocate
 * through the proxies. Over the budget the thread exits at once with `job.tooComplexExitCode`: an
 * exception could be caught and skipped by pdf.js, and a partial text would be a silently
 * shortened document.
 *
 * This file imports only node and unpdf, and its types only from `documents.ts` (erased at
 * compile time): under ts-jest the parent starts it as TypeScript, which Node 22 runs by
 * stripping the types, and a local import would need an extension Node can resolve.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PdfJob, PdfOutcome } from './documents';

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

function start(job: PdfJob): void {
  const port = parentPort;
  if (!port) throw new Error('pdf-worker runs as a worker thread');
  let decoded = 0;
  const charge = (bytes: number): void => {
    decoded += bytes;
    // In a worker thread process.exit ends the thread, not the process, and cannot be caught.
    if (decoded > job.maxDecodedBytes) process.exit(job.tooComplexExitCode);
  };
  /** Elements a typed-array constructor allocates: a view over a buffer allocates none. */
  const elementsOf = (first: unknown): number => {
    if (typeof first === 'number') return first;
    if (first instanceof ArrayBuffer || first instanceof SharedArrayBuffer) return 0;
    const length = (first as { length?: unknown } | null | undefined)?.length;
    return typeof length === 'number' ? length : 0;
  };
  const globals = globalThis as unknown as Record<string, unknown>;
  for (const name of TYPED_ARRAYS) {
    const native = globalThis[name];
    globals[name] = new Proxy(native, {
      construct(target, args: unknown[], newTarget: new (...a: unknown[]) => object) {
        charge(elementsOf(args[0]) * native.BYTES_PER_ELEMENT);
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  }
  globals.ArrayBuffer = new Proxy(ArrayBuffer, {
    construct(target, args: unknown[], newTarget: new (...a: unknown[]) => object) {
      charge(typeof args[0] === 'number' ? args[0] : 0);
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
  Object.defineProperty(globalThis, 'DecompressionStream', {
    value: undefined,
    configurable: true,
    writable: true,
  });

  const post = (outcome: PdfOutcome) => {
    port.postMessage(outcome);
  };
  read(job).then(post, () => {
    post({ kind: 'unreadable' });
  });
}

async function read(job: PdfJob): Promise<PdfOutcome> {
  const { getDocumentProxy, extractText } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(job.bytes, {
      verbosity: 0,
      // No WebAssembly decoders: their memory is outside the budget, and reading the text
      // layer decodes no images.
      useWasm: false,
    });
  } catch {
    return { kind: 'unreadable' };
  }
  try {
    if (pdf.numPages > job.maxPages) return { kind: 'too_many_pages', pages: pdf.numPages };
    const { text } = await extractText(pdf, { mergePages: false });
    return { kind: 'text', pages: text };
  } catch {
    return { kind: 'unreadable' };
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

start(workerData as PdfJob);
