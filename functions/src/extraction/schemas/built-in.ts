/**
 * Built-in extraction schemas. The model answers the "model output" shape (every field with
 * the verbatim quote it was read from); post-processing grounds, normalizes and reconciles it
 * into the result customers receive. One zod definition yields both the JSON Schema sent to
 * the providers' structured-output modes and the validator applied to what comes back.
 */
import { z } from 'zod';
import { schemaSha256 } from './definition';
import type { ExtractionSchema } from './types';

function grounded<T extends z.ZodType>(value: T, description: string) {
  return z
    .strictObject({
      value: value.nullable(),
      quote: z
        .string()
        .nullable()
        .describe('The exact text of the document the value was read from.'),
    })
    .describe(description);
}

const LineItem = z.strictObject({
  description: grounded(z.string(), 'What was sold. Labels: Description, Item.'),
  quantity: grounded(z.number(), 'Units. Labels: Qty, Quantity.'),
  unitPrice: grounded(z.number(), 'Price of one unit. Labels: Unit Price, Price, Rate.'),
  amount: grounded(z.number(), 'Line total. Labels: Amount, Line Total, Total.'),
});

export const InvoiceModelOutput = z.strictObject({
  vendorName: grounded(
    z.string(),
    'Who issued the invoice. Labels: Vendor, Seller, From, Supplier.',
  ),
  invoiceNumber: grounded(z.string(), 'Labels: Invoice No, Invoice #, Invoice Number.'),
  invoiceDate: grounded(z.string(), 'Date of issue. Labels: Date, Invoice Date, Issue Date.'),
  dueDate: grounded(z.string(), 'Labels: Due, Due Date, Payment Due.'),
  currency: grounded(z.string(), 'ISO 4217 code or symbol. Labels: Currency.'),
  subtotal: grounded(z.number(), 'Labels: Subtotal, Net.'),
  tax: grounded(z.number(), 'Labels: Tax, VAT, GST.'),
  total: grounded(z.number(), 'Labels: Total, Amount Due, Total Due, Grand Total.'),
  lineItems: z.array(LineItem).describe('Rows of the line-item table.'),
});

export const ReceiptModelOutput = z.strictObject({
  merchantName: grounded(z.string(), 'Labels: Merchant, Store, Shop.'),
  transactionDate: grounded(z.string(), 'Labels: Date, Transaction Date.'),
  currency: grounded(z.string(), 'ISO 4217 code or symbol. Labels: Currency.'),
  tax: grounded(z.number(), 'Labels: Tax, VAT, GST.'),
  total: grounded(z.number(), 'Labels: Total, Amount Paid, Grand Total.'),
  paymentMethod: grounded(z.string(), 'Labels: Payment, Paid With, Payment Method.'),
  lineItems: z.array(LineItem).describe('Rows of the item table.'),
});

function define(
  name: string,
  version: number,
  description: string,
  modelOutput: z.ZodObject,
  amountFields: string[],
  dateFields: string[],
): ExtractionSchema {
  const jsonSchema = z.toJSONSchema(modelOutput, { target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  delete jsonSchema.$schema;
  const sha256 = schemaSha256({ kind: 'builtIn', name, version, description, jsonSchema });
  return {
    name,
    version,
    description,
    sha256,
    modelOutput,
    jsonSchema,
    amountFields,
    dateFields,
    kind: 'builtIn',
  };
}

const INVOICE_V1 = define(
  'invoice',
  1,
  'Invoice header, totals and line items, each value with the text it was read from.',
  InvoiceModelOutput,
  ['subtotal', 'tax', 'total'],
  ['invoiceDate', 'dueDate'],
);
const RECEIPT_V1 = define(
  'receipt',
  1,
  'Receipt merchant, date, totals and items, each value with the text it was read from.',
  ReceiptModelOutput,
  ['tax', 'total'],
  ['transactionDate'],
);

/**
 * Every version of every built-in schema, oldest first. A released version never changes (its
 * hash is in evidence records, and `built-in-schemas.test.ts` pins it): a change to a model
 * output above, its wording included, is a new version appended here, with the old definition
 * kept (under its own name) so older extractions still replay byte for byte.
 */
export const BUILT_IN_VERSIONS: Readonly<Record<string, readonly ExtractionSchema[]>> = {
  invoice: [INVOICE_V1],
  receipt: [RECEIPT_V1],
};

/** The current version of each built-in schema: what a new extraction uses. */
export const BUILT_IN_SCHEMAS = {
  invoice: INVOICE_V1,
  receipt: RECEIPT_V1,
} satisfies Record<string, ExtractionSchema>;

export const SCHEMA_NAMES = Object.keys(BUILT_IN_SCHEMAS);

export function getSchema(name: string): ExtractionSchema | undefined {
  const schemas: Record<string, ExtractionSchema> = BUILT_IN_SCHEMAS;
  return Object.hasOwn(schemas, name) ? schemas[name] : undefined;
}

/** One version of a built-in schema; undefined for another name or a version never released. */
export function getBuiltInVersion(name: string, version: number): ExtractionSchema | undefined {
  if (!Object.hasOwn(BUILT_IN_VERSIONS, name)) return undefined;
  return BUILT_IN_VERSIONS[name]?.find((s) => s.version === version);
}

/** The built-in schema version whose canonical form hashes to `sha256`. */
export function builtInBySha256(sha256: string): ExtractionSchema | undefined {
  return Object.values(BUILT_IN_VERSIONS)
    .flat()
    .find((s) => s.sha256 === sha256);
}
