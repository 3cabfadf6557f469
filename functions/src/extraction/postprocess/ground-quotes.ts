/**
 * ground-quotes: each `{value, quote}` the model answered becomes a field with the span of the
 * document its quote was found at, or an `ungrounded` issue when the quote is not there.
 */
import type { ExtractionResult, Field, Issue, Step } from './types';

type Grounded = { value: string | number | null; quote: string | null };

/** 1 + the form feeds before `offset`: the page of a PDF's text layer. */
function pageAt(documentText: string, offset: number): number {
  let page = 1;
  for (
    let i = documentText.indexOf('\f');
    i !== -1 && i < offset;
    i = documentText.indexOf('\f', i + 1)
  ) {
    page++;
  }
  return page;
}

function ground(raw: Grounded, documentText: string, used: Set<number>, withPages: boolean): Field {
  if (raw.quote === null || raw.quote === '') {
    return { value: raw.value, source: null, grounded: raw.value === null };
  }
  // Prefer an occurrence not already claimed, so repeated values map to distinct places.
  let start = documentText.indexOf(raw.quote);
  while (start !== -1 && used.has(start)) start = documentText.indexOf(raw.quote, start + 1);
  if (start === -1) start = documentText.indexOf(raw.quote);
  if (start === -1) return { value: raw.value, source: null, grounded: false };
  used.add(start);
  const end = start + raw.quote.length;
  return {
    value: raw.value,
    source:
      withPages && documentText.includes('\f')
        ? { text: raw.quote, start, end, page: pageAt(documentText, start) }
        : { text: raw.quote, start, end },
    grounded: true,
  };
}

/**
 * ground-quotes@1 locates each quote; @2 also names the PDF page it lies on. @1 stays in the
 * registry so records made with it still replay byte for byte.
 */
const groundingStep = (version: 1 | 2): Step => ({
  name: 'ground-quotes',
  version,
  run(input, { documentText }) {
    const withPages = version >= 2;
    const output = input as Record<string, unknown>;
    const used = new Set<number>();
    const fields: Record<string, Field> = {};
    const lineItems: Record<string, Field>[] = [];
    const issues: Issue[] = [];
    for (const [name, value] of Object.entries(output)) {
      if (Array.isArray(value)) {
        value.forEach((item: Record<string, Grounded>, index) => {
          const row: Record<string, Field> = {};
          for (const [col, cell] of Object.entries(item)) {
            row[col] = ground(cell, documentText, used, withPages);
            if (!row[col].grounded) {
              issues.push({
                code: 'ungrounded',
                field: `${name}[${index}].${col}`,
                message: 'value not found in the document',
              });
            }
          }
          lineItems.push(row);
        });
      } else {
        const field = ground(value as Grounded, documentText, used, withPages);
        fields[name] = field;
        if (!field.grounded)
          issues.push({
            code: 'ungrounded',
            field: name,
            message: 'value not found in the document',
          });
      }
    }
    return { fields, lineItems, issues } satisfies ExtractionResult;
  },
});

export const groundQuotesV1 = groundingStep(1);
export const groundQuotesV2 = groundingStep(2);
