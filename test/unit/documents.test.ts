import {
  documentInput,
  normalizeContentType,
  PDF_READ_LIMITS,
  pdfPages,
  sniffContentType,
  validateDocument,
} from '../../functions/src/extraction/documents';
import { makeJpeg, makePdf, makePng } from '../fixtures/documents';
import { pdfWithFlateBomb, pdfWithManyTextItems } from '../fixtures/pdf-bomb';

const limits = { MAX_DOCUMENT_BYTES: 64 * 1024, MAX_PDF_PAGES: 3 };

// Every PDF is read in a worker thread of its own (pdf.js loads anew each time) and the bombs
// below decode up to their budget: seconds of CPU on a shared two-core machine. Behaviour is
// asserted, never the time it takes.
jest.setTimeout(60_000);

async function rejection(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { status: number; code: string };
  }
  throw new Error('expected a rejection');
}

describe('content types', () => {
  it.each([
    ['text/plain; charset=utf-8', 'text/plain'],
    ['Application/PDF', 'application/pdf'],
    ['image/jpg', 'image/jpeg'],
  ])('normalizes %s', (declared, expected) => {
    expect(normalizeContentType(declared)).toBe(expected);
  });

  it.each(['image/gif', 'application/json', '', 'text/html'])('refuses %j with a 415', (t) => {
    expect(() => normalizeContentType(t)).toThrow(
      expect.objectContaining({ status: 415, code: 'unsupported_media_type' }) as Error,
    );
  });

  it('sniffs each supported type from its bytes', () => {
    expect(sniffContentType(makePng('x'))).toBe('image/png');
    expect(sniffContentType(makeJpeg('x'))).toBe('image/jpeg');
    expect(sniffContentType(makePdf([['x']]))).toBe('application/pdf');
    expect(sniffContentType(Buffer.from('Total: 1.00 €'))).toBe('text/plain');
    expect(sniffContentType(Buffer.from([0xc3, 0x28]))).toBe('unknown');
    expect(sniffContentType(Buffer.from('a\0b'))).toBe('unknown');
  });
});

describe('validateDocument', () => {
  it('accepts each type whose bytes match', async () => {
    await expect(validateDocument(Buffer.from('hi'), 'text/plain', limits)).resolves.toBe(
      'text/plain',
    );
    await expect(validateDocument(makePng('x'), 'image/png', limits)).resolves.toBe('image/png');
    await expect(validateDocument(makeJpeg('x'), 'image/jpeg', limits)).resolves.toBe('image/jpeg');
    await expect(
      validateDocument(makePdf([['Total: 1']]), 'application/pdf', limits),
    ).resolves.toBe('application/pdf');
  });

  it.each([
    ['a PNG declared as JPEG', makePng('x'), 'image/jpeg'],
    ['a PDF declared as text', makePdf([['x']]), 'text/plain'],
    ['text declared as PDF', Buffer.from('hello'), 'application/pdf'],
    ['binary declared as text', Buffer.from([0xff, 0x00, 0x01]), 'text/plain'],
  ])('refuses %s with 422 content_type_mismatch', async (_, bytes, type) => {
    expect(await rejection(validateDocument(bytes, type, limits))).toMatchObject({
      status: 422,
      code: 'content_type_mismatch',
    });
  });

  it('refuses an oversized document with 413 and an empty one with 400', async () => {
    expect(
      await rejection(
        validateDocument(Buffer.alloc(limits.MAX_DOCUMENT_BYTES + 1, 0x61), 'text/plain', limits),
      ),
    ).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(await rejection(validateDocument(Buffer.alloc(0), 'text/plain', limits))).toMatchObject({
      status: 400,
      code: 'empty_document',
    });
  });

  it('refuses a PDF without a text layer, a broken PDF and one over the page limit', async () => {
    expect(
      await rejection(validateDocument(makePdf([[]]), 'application/pdf', limits)),
    ).toMatchObject({ status: 422, code: 'document_unreadable' });
    expect(
      await rejection(
        validateDocument(Buffer.from('%PDF-1.4\ngarbage'), 'application/pdf', limits),
      ),
    ).toMatchObject({ status: 422, code: 'document_unreadable' });
    const fourPages = makePdf([['a'], ['b'], ['c'], ['d']]);
    expect(await rejection(validateDocument(fourPages, 'application/pdf', limits))).toMatchObject({
      status: 422,
      code: 'too_many_pages',
    });
  });
});

describe('documentInput', () => {
  it('reads the text layer of every page, in order, line by line', async () => {
    const pdf = makePdf([['Vendor: Northwind (EU)', 'Total: 12.00'], ['Page two \\ end']]);
    const { input, documentText } = await documentInput(pdf, 'application/pdf', limits);
    expect(input).toEqual({ kind: 'text', text: documentText });
    expect(documentText).toContain('\n\f\n');
    expect(documentText.split('\n').map((l) => l.trim())).toEqual([
      'Vendor: Northwind (EU)',
      'Total: 12.00',
      '',
      'Page two \\ end',
    ]);
  });

  it('sends images as image input with nothing to ground against', async () => {
    const png = makePng('Total: 3.00');
    await expect(documentInput(png, 'image/png', limits)).resolves.toEqual({
      input: { kind: 'image', mediaType: 'image/png', base64: png.toString('base64') },
      documentText: '',
    });
  });
});

describe('finding 2: hostile PDFs in the API process', () => {
  const MiB = 1024 * 1024;

  it('refuses a 200 KB PDF that inflates to 200 MiB with 422 document_too_complex, in a worker thread', async () => {
    const bomb = await pdfWithFlateBomb('Total 1.00', 200);
    expect(bomb.length).toBeLessThan(256 * 1024);
    const heapBefore = process.memoryUsage().arrayBuffers;
    expect(await rejection(pdfPages(bomb, 3))).toMatchObject({
      status: 422,
      code: 'document_too_complex',
      details: { limit: 'decoded_bytes' },
    });
    // The decoded bytes lived in the worker's isolate, never in this one.
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 * MiB);
  });

  it('reads a PDF whose decoded size stays within the budget', async () => {
    const roomy = await pdfWithFlateBomb('Total 1.00', 8);
    await expect(pdfPages(roomy, 3)).resolves.toEqual(['Total 1.00']);
  });

  it('refuses a PDF that fills the worker heap with 422 document_too_complex', async () => {
    // 5 MiB decoded, well within its budget; a million text items are not within 16 MiB of heap.
    const items = await pdfWithManyTextItems(1_000_000);
    expect(
      await rejection(pdfPages(items, 3, { ...PDF_READ_LIMITS, maxHeapMb: 16 })),
    ).toMatchObject({ status: 422, code: 'document_too_complex', details: { limit: 'heap' } });
  });

  it('refuses a PDF not read by its deadline with 422 document_too_complex', async () => {
    // A deadline no worker thread can meet: starting one takes longer than no time at all.
    expect(
      await rejection(pdfPages(makePdf([['Total: 1']]), 3, { ...PDF_READ_LIMITS, deadlineMs: 0 })),
    ).toMatchObject({ status: 422, code: 'document_too_complex', details: { limit: 'deadline' } });
  });

  it('reads normal PDFs at once while bombs are refused', async () => {
    const bomb = await pdfWithFlateBomb('Total 1.00', 200);
    const normal = makePdf([['Vendor: Bystander Ltd']]);
    const [refused, ...read] = await Promise.allSettled([
      pdfPages(bomb, 3),
      pdfPages(normal, 3),
      pdfPages(normal, 3),
    ]);
    expect(refused).toMatchObject({
      status: 'rejected',
      reason: { code: 'document_too_complex' },
    });
    expect(read).toEqual([
      { status: 'fulfilled', value: ['Vendor: Bystander Ltd'] },
      { status: 'fulfilled', value: ['Vendor: Bystander Ltd'] },
    ]);
  });
});
