/**
 * The LLM emulator's extraction over the corpus of synthetic invoices and receipts
 * (test/fixtures/corpus): each document goes to the emulator the way the product sends it — its
 * text read by the product's own `documentInput` (a PDF's text layer through pdf.js, an image as
 * an image part), the product's system prompt and built-in schema, through the product's OpenAI
 * and Anthropic adapters over HTTP — and every expected field is compared with the answer. The
 * field accuracy is printed as `corpus accuracy: X/Y fields (Z%)`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { documentInput } from '../../functions/src/extraction/documents';
import { buildSystemPrompt } from '../../functions/src/extraction/prompt';
import { BUILT_IN_SCHEMAS } from '../../functions/src/extraction/schemas/built-in';
import { AnthropicProvider } from '../../functions/src/providers/anthropic';
import { OpenAiProvider } from '../../functions/src/providers/openai';
import type { LlmProvider, ProviderRequest } from '../../functions/src/providers/provider';
import { startLlmEmulator } from '../../scripts/local/emulators/llm/server';
import type { RunningEmulator } from '../../scripts/local/emulators/running';
import {
  type CorpusEntry,
  type ExpectedFields,
  loadCorpus,
  readDocument,
  renderDocument,
  sourcePath,
} from '../fixtures/corpus/corpus';

/**
 * The floor the extractor must keep, at the accuracy reached (571/573 fields, 99.7%). The two
 * fields it misses are left missed on purpose: an invoice number printed under its title in a
 * two-column box, and a receipt whose tax is the sum of two tax lines (GST + QST).
 *
 * Held-out documents (`heldOut: true`) were written after the rules they test. The first eight
 * read 122/142 fields (85.9%) when first run, the next four 42/68 (61.8%); the general gaps
 * they showed (French, German and Québécois labels and columns, `Total charged`, `Card:`, a
 * dollar code printed in a label, registration lines that start like tax lines, a date column,
 * `2 x Croissant @ 1.80` till lines) were closed by rules, not by entries for those documents.
 */
const ACCURACY_FLOOR = 0.995;

const corpus = loadCorpus();

interface Score {
  correct: number;
  total: number;
  misses: string[];
}

type Grounded = { value: unknown; quote: unknown } | null | undefined;

function same(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') {
    return typeof actual === 'number' && Math.abs(actual - expected) < 0.005;
  }
  if (typeof expected === 'string' && typeof actual === 'string') {
    return actual.trim() === expected;
  }
  return actual === expected;
}

/**
 * One point per expected field: a top-level value, each cell of each expected line item, and
 * the number of line items (an invented or missing row costs a point).
 */
function scoreAnswer(name: string, answer: unknown, expected: ExpectedFields): Score {
  const score: Score = { correct: 0, total: 0, misses: [] };
  const output = (answer ?? {}) as Record<string, unknown>;
  const check = (path: string, actual: unknown, wanted: unknown) => {
    score.total += 1;
    if (same(actual, wanted)) score.correct += 1;
    else
      score.misses.push(
        `${name} ${path}: got ${JSON.stringify(actual)}, want ${JSON.stringify(wanted)}`,
      );
  };
  for (const [field, wanted] of Object.entries(expected)) {
    if (Array.isArray(wanted)) {
      const rows = Array.isArray(output[field])
        ? (output[field] as Record<string, Grounded>[])
        : [];
      check(`${field}.length`, rows.length, wanted.length);
      wanted.forEach((row, index) => {
        for (const [column, cell] of Object.entries(row)) {
          check(`${field}[${String(index)}].${column}`, rows[index]?.[column]?.value ?? null, cell);
        }
      });
    } else {
      check(field, (output[field] as Grounded)?.value ?? null, wanted);
    }
  }
  return score;
}

function percent(score: Pick<Score, 'correct' | 'total'>): string {
  return ((100 * score.correct) / score.total).toFixed(1);
}

async function request(entry: CorpusEntry): Promise<Omit<ProviderRequest, 'model'>> {
  const schema = BUILT_IN_SCHEMAS[entry.schema];
  const { input } = await documentInput(readDocument(entry), entry.contentType, {
    MAX_PDF_PAGES: 10,
  });
  return {
    system: buildSystemPrompt(schema).system,
    documentText: input.kind === 'text' ? input.text : '',
    image:
      input.kind === 'image' ? { mediaType: input.mediaType, base64: input.base64 } : undefined,
    schemaName: schema.name,
    jsonSchema: schema.jsonSchema,
    // What production sends: the output budget, and the document by its commitment only (the
    // commitment goes into the request hash in the evidence, never to the provider).
    maxOutputTokens: 4096,
    documentCommitment: `corpus-${entry.name}`,
  };
}

describe('extraction corpus through the LLM emulator', () => {
  let emulator: RunningEmulator;
  let providers: LlmProvider[];

  beforeAll(async () => {
    emulator = await startLlmEmulator({ port: 0 });
    providers = [
      new OpenAiProvider({
        apiKey: 'test',
        baseURL: `${emulator.url}/v1`,
        model: 'gpt-4o-mini',
        timeoutMs: 10_000,
      }),
      new AnthropicProvider({
        apiKey: 'test',
        baseURL: emulator.url,
        model: 'claude-haiku-4-5',
        timeoutMs: 10_000,
      }),
    ];
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('holds at least 25 documents: text, PDF (one multi-page), PNG and JPEG; invoices and receipts', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(25);
    const types = new Set(corpus.map((entry) => entry.contentType));
    expect([...types].sort()).toEqual(['application/pdf', 'image/jpeg', 'image/png', 'text/plain']);
    expect(new Set(corpus.map((entry) => entry.schema))).toEqual(new Set(['invoice', 'receipt']));
    const multiPage = corpus.filter(
      (entry) =>
        entry.contentType === 'application/pdf' &&
        /\n(?:\\f|\f)\n/.test(readFileSync(sourcePath(entry) ?? '', 'utf8')),
    );
    expect(multiPage.length).toBeGreaterThanOrEqual(2);
    expect(corpus.some((entry) => entry.heldOut)).toBe(true);
  });

  it('every PDF and image is exactly what its source text renders to (UPDATE_CORPUS=1 rewrites)', () => {
    for (const entry of corpus) {
      const source = sourcePath(entry);
      if (source === undefined) continue;
      const rendered = renderDocument(entry.contentType, readFileSync(source, 'utf8'));
      const file = source.slice(0, -'.txt'.length);
      if (process.env.UPDATE_CORPUS === '1') writeFileSync(file, rendered);
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file).equals(rendered)).toBe(true);
    }
  });

  it("reads the corpus fields over both providers' wire protocols at the accuracy floor", async () => {
    const all: Score = { correct: 0, total: 0, misses: [] };
    const heldOut: Score = { correct: 0, total: 0, misses: [] };
    for (const entry of corpus) {
      const asked = await request(entry);
      const answers: unknown[] = [];
      for (const provider of providers) {
        const response = await provider.complete({ ...asked, model: provider.model });
        expect(response.refusal).toBeNull();
        answers.push(JSON.parse(response.outputText ?? 'null'));
      }
      // The same document and schema get the same answer whichever wire protocol carried them.
      expect(answers[1]).toEqual(answers[0]);
      const score = scoreAnswer(entry.name, answers[0], entry.expected);
      for (const into of entry.heldOut ? [all, heldOut] : [all]) {
        into.correct += score.correct;
        into.total += score.total;
        into.misses.push(...score.misses);
      }
    }
    const lines = [
      `corpus accuracy: ${String(all.correct)}/${String(all.total)} fields (${percent(all)}%)`,
      `held-out accuracy: ${String(heldOut.correct)}/${String(heldOut.total)} fields (${percent(heldOut)}%)`,
      ...all.misses.map((miss) => `  miss ${miss}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    expect(all.correct / all.total).toBeGreaterThanOrEqual(ACCURACY_FLOOR);
    expect(heldOut.total).toBeGreaterThan(0);
    // A budget for reading every PDF in its own worker thread on a loaded machine.
  }, 120_000);
});
