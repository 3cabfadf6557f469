/**
 * Issue 11, "a local extractor worth trying", from the user's side: invoices of the extraction
 * corpus (test/fixtures/corpus) submitted over HTTP to the local stack as a new user would, and
 * the result read back over HTTP. The vendor (a letterhead, no `Vendor:` label), the total (in
 * the corpus's own wordings) and the issue date come back as the corpus expects them, through
 * the product's PDF reading, the LLM emulator and post-processing.
 */
import { readFileSync } from 'node:fs';
import {
  type CorpusEntry,
  loadCorpus,
  readDocument,
  renderDocument,
  sourcePath,
} from '../fixtures/corpus/corpus';
import {
  callApi,
  LOG_CANARY,
  tenantKey,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';

interface FieldView {
  value: unknown;
}
interface InvoiceResult {
  fields: Record<string, FieldView>;
  lineItems: Record<string, FieldView>[];
}

const { apiKey } = tenantKey(0);

/** The corpus document as sent: its own bytes, with this run's log canary printed in it. */
function documentWithCanary(entry: CorpusEntry): { contentType: string; data: string } {
  const source = sourcePath(entry);
  const bytes =
    source === undefined
      ? Buffer.from(withCanary(readDocument(entry).toString('utf8')), 'utf8')
      : renderDocument(
          entry.contentType,
          `${readFileSync(source, 'utf8')}\nReference: ${LOG_CANARY}\n`,
        );
  return { contentType: entry.contentType, data: bytes.toString('base64') };
}

const corpus = loadCorpus();
const byName = (name: string): CorpusEntry => {
  const entry = corpus.find((candidate) => candidate.name === name);
  if (entry === undefined) throw new Error(`no corpus entry ${name}`);
  return entry;
};

describe('corpus invoices through the API of the local stack', () => {
  it.each([
    // A two-page PDF: its text layer read by pdf.js, items on both pages, `Total Due` on page 2.
    ['p02-multipage'],
    // Plain text: a letterhead, `12 March 2026`, `Total due  1.428,00 EUR` without a colon.
    ['t01-letterhead-eur'],
  ])(
    '%s gives the expected vendor, total and invoice date',
    async (name) => {
      const entry = byName(name);
      const reply = await callApi('/v1/extractions', {
        method: 'POST',
        key: apiKey,
        body: { document: documentWithCanary(entry), schema: entry.schema },
      });
      expect(reply.status).toBe(202);
      const done: ExtractionBody = await waitForTerminal((reply.body as ExtractionBody).id, apiKey);
      expect(done.status).toBe('succeeded');
      const result = done.result as unknown as InvoiceResult;
      const { expected } = entry;
      expect(result.fields.vendorName?.value).toBe(expected.vendorName);
      // The API gives amounts as two-decimal strings and dates as ISO dates.
      expect(result.fields.total?.value).toBe(Number(expected.total).toFixed(2));
      expect(result.fields.invoiceDate?.value).toBe(expected.invoiceDate);
      expect(result.lineItems).toHaveLength((expected.lineItems as unknown[]).length);
    },
    60_000,
  );
});
