/**
 * Built-in extraction schemas. The model answers the "model output" shape (every field with
 * the verbatim quote it was read from); post-processing grounds, normalizes and reconciles it
 * into the result customers receive. One zod definition yields both the JSON Schema sent to
 * the providers' structured-output modes and the validator applied to what comes back.
 */
import { z } from 'zod';
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
  modelOutput: z.ZodObject,
  amountFields: string[],
  dateFields: string[],
): ExtractionSchema {
  const jsonSchema = z.toJSONSchema(modelOutput, { target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  delete jsonSchema.$schema;
  return { name, version, modelOutput, jsonSchema, amountFields, dateFields, kind: 'builtIn' };
}

export const BUILT_IN_SCHEMAS = {
  invoice: define(
    'invoice',
    1,
    InvoiceModelOutput,
    ['subtotal', 'tax', 'total'],
    ['invoiceDate', 'dueDate'],
  ),
  receipt: define('receipt', 1, ReceiptModelOutput, ['tax', 'total'], ['transactionDate']),
} satisfies Record<string, ExtractionSchema>;

export const SCHEMA_NAMES = Object.keys(BUILT_IN_SCHEMAS);

export function getSchema(name: string): ExtractionSchema | undefined {
  const schemas: Record<string, ExtractionSchema> = BUILT_IN_SCHEMAS;
  return Object.hasOwn(schemas, name) ? schemas[name] : undefined;
}
