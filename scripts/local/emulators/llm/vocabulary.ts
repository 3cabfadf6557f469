/**
 * What invoices and receipts call things. A property is recognised as one of a few common
 * concepts from its name (`vendorName`, `grandTotal`, `issueDate`, `qty`...), and each concept
 * brings the labels documents print for it, in several wordings and in the languages invoices
 * commonly arrive in. A schema's own `Labels:` always come first; these only widen the search.
 *
 * All labels are normalized as `normalizeLabel` in extract.ts makes them: lowercase words, `No.`
 * and `#` read as `number`.
 */

export type Concept =
  | 'vendor'
  | 'merchant'
  | 'customer'
  | 'invoiceNumber'
  | 'issueDate'
  | 'dueDate'
  | 'transactionDate'
  | 'currency'
  | 'subtotal'
  | 'tax'
  | 'total'
  | 'paymentMethod'
  | 'description'
  | 'quantity'
  | 'unitPrice'
  | 'amount';

const LABELS: Record<Concept, readonly string[]> = {
  vendor: [
    'vendor',
    'seller',
    'supplier',
    'from',
    'issuer',
    'issued by',
    'billed by',
    'sold by',
    'company',
  ],
  merchant: ['merchant', 'store', 'shop', 'seller', 'vendor', 'sold by'],
  customer: ['customer', 'bill to', 'billed to', 'sold to', 'client', 'buyer', 'to'],
  invoiceNumber: [
    'invoice number',
    'invoice',
    'invoice id',
    'invoice ref',
    'invoice reference',
    'bill number',
    'document number',
    'rechnungsnummer',
    'rechnung number',
    'factuurnummer',
    'facture number',
    'fattura number',
    'number facture',
    'numéro de facture',
    'number de facture',
    'numero fattura',
    'número de factura',
    'number factura',
    'rechnung nr',
    'invoice no',
  ],
  issueDate: [
    'invoice date',
    'date',
    'date of issue',
    'issue date',
    'issued',
    'issued on',
    'date issued',
    'billing date',
    'invoice date and time',
    'tax point',
    'datum',
    'rechnungsdatum',
    'factuurdatum',
    'data',
    'fecha',
  ],
  dueDate: [
    'due date',
    'due',
    'payment due',
    'payment due date',
    'due by',
    'due on',
    'pay by',
    'payable by',
    'fällig',
    'fällig am',
    'vervaldatum',
    'scadenza',
    'échéance',
    'date d échéance',
    'zahlbar bis',
    'vencimiento',
  ],
  transactionDate: [
    'transaction date',
    'date',
    'purchase date',
    'order date',
    'sale date',
    'departure',
    'check out',
    'checkout',
    'date time',
    'datum',
    'data',
    'fecha',
  ],
  currency: ['currency', 'währung', 'valuta', 'devise', 'moneda'],
  subtotal: [
    'subtotal',
    'sub total',
    'net',
    'net amount',
    'net total',
    'total net',
    'total excl vat',
    'total excl tax',
    'amount excl vat',
    'amount excl tax',
    'total before tax',
    'taxable value',
    'taxable amount',
    'netto',
    'nettobetrag',
    'zwischensumme',
    'imponibile',
    'total ht',
    'montant ht',
    'base imponible',
    'total ex vat',
    'total ex tax',
    'total excluding vat',
    'total excluding tax',
    'amount ex vat',
    'net of vat',
    'sous total',
    'total before vat',
  ],
  tax: [
    'tax',
    'vat',
    'gst',
    'hst',
    'pst',
    'qst',
    'sales tax',
    'tax amount',
    'vat amount',
    'total tax',
    'total vat',
    'consumption tax',
    'mwst',
    'ust',
    'btw',
    'tva',
    'iva',
    'igst',
    'mw st',
    'mehrwertsteuer',
    'umsatzsteuer',
    'of which vat',
    'of which tax',
    'davon mw st',
    'dont tva',
    'tps',
    'tvq',
    'total gst',
    'vat included',
    'tax included',
    'cgst',
    'sgst',
  ],
  total: [
    'total',
    'total due',
    'amount due',
    'grand total',
    'amount payable',
    'total payable',
    'balance due',
    'balance',
    'total amount',
    'total amount due',
    'amount paid',
    'total paid',
    'invoice total',
    'total to pay',
    'amount to pay',
    'total incl vat',
    'total incl tax',
    'gesamtbetrag',
    'gesamtsumme',
    'summe',
    'totaal',
    'totale',
    'total ttc',
    'importe total',
    'total charged',
    'amount charged',
    'montant ttc',
    'total à payer',
    'endbetrag',
    'rechnungsbetrag',
    'total charges',
    'total charge',
    'total sale',
  ],
  paymentMethod: [
    'payment method',
    'payment',
    'paid with',
    'paid by',
    'payment type',
    'tender',
    'method of payment',
    'zahlungsart',
    'zahlung',
    'pagamento',
    'paiement',
    'forma de pago',
    'card',
    'card type',
    'paid by card',
    'tender type',
  ],
  description: [
    'description',
    'item',
    'items',
    'item description',
    'article',
    'product',
    'service',
    'services',
    'details',
    'artikel',
    'bezeichnung',
    'beschreibung',
    'omschrijving',
    'descrizione',
    'designation',
    'désignation',
    'leistung',
  ],
  quantity: [
    'quantity',
    'qty',
    'hours',
    'hrs',
    'units',
    'pcs',
    'menge',
    'anzahl',
    'aantal',
    'quantità',
    'qté',
    'cantidad',
  ],
  unitPrice: [
    'unit price',
    'price',
    'rate',
    'unit cost',
    'price each',
    'each',
    'unit',
    'einzelpreis',
    'prijs',
    'prezzo',
    'prix unitaire',
    'precio',
  ],
  amount: [
    'amount',
    'line total',
    'total',
    'line amount',
    'betrag',
    'bedrag',
    'importo',
    'montant',
    'importe',
    'gesamt',
    'gesamtpreis',
    'summe',
    'prix total',
    'total price',
  ],
};

/** Columns that number or date a table's rows: one token each, nobody's field here. */
export const INDEX_COLUMNS: readonly string[] = ['sl', 'number', 'pos', 'line', 's number', 'date'];

/** Which concept a property name stands for, from its normalized words; undefined if none. */
export function conceptOf(name: string): Concept | undefined {
  const words = name.split(' ');
  const has = (...any: string[]) => any.some((word) => words.includes(word));
  // Registration numbers and account identifiers (`vatId`, `iban`) are no amounts or dates.
  if (has('id', 'iban', 'bic', 'swift', 'registration', 'reg')) {
    return has('invoice', 'bill') ? 'invoiceNumber' : undefined;
  }
  if (has('vendor', 'seller', 'supplier', 'issuer')) return 'vendor';
  if (has('merchant', 'store', 'shop')) return 'merchant';
  if (has('customer', 'buyer', 'client')) return 'customer';
  if (has('due')) return 'dueDate';
  if (has('date')) {
    if (has('transaction', 'purchase', 'order', 'sale', 'receipt')) return 'transactionDate';
    return 'issueDate';
  }
  if (has('invoice', 'bill') && has('number', 'id', 'ref', 'reference')) return 'invoiceNumber';
  if (has('currency')) return 'currency';
  if (has('subtotal') || (has('net') && !has('days'))) return 'subtotal';
  if (has('tax', 'vat', 'gst')) return 'tax';
  if (has('payment', 'tender') && has('method', 'type', 'mode')) return 'paymentMethod';
  if (has('total', 'grand') || name === 'amount due') return 'total';
  if (has('description', 'item', 'product', 'service')) return 'description';
  if (has('quantity', 'qty')) return 'quantity';
  if (has('unit', 'rate') || name === 'price') return 'unitPrice';
  if (has('amount')) return 'amount';
  return undefined;
}

/** The labels documents print for `concept`, normalized. */
export function conceptLabels(concept: Concept | undefined): readonly string[] {
  return concept === undefined ? [] : LABELS[concept];
}

/** Every label any concept knows: the words a line may start with to be a labelled line. */
export const ALL_LABELS: readonly string[] = [
  ...new Set(Object.values(LABELS).flatMap((labels) => labels)),
];

/** The labels of table columns, by the line-item concept they stand for. */
export const COLUMN_CONCEPTS = ['description', 'quantity', 'unitPrice', 'amount'] as const;
export type ColumnConcept = (typeof COLUMN_CONCEPTS)[number];

export function columnLabels(concept: ColumnConcept): readonly string[] {
  return LABELS[concept];
}

/** Words a document title is made of (`TAX INVOICE`, `Order receipt`): never a vendor's name. */
export const TITLE_WORDS: ReadonlySet<string> = new Set([
  'invoice',
  'tax',
  'vat',
  'gst',
  'receipt',
  'order',
  'sales',
  'sale',
  'bill',
  'statement',
  'credit',
  'debit',
  'note',
  'proforma',
  'pro',
  'forma',
  'quote',
  'quotation',
  'estimate',
  'original',
  'copy',
  'duplicate',
  'parking',
  'payment',
  'cash',
  'simplified',
  'commercial',
  'factuur',
  'rechnung',
  'facture',
  'fattura',
  'factura',
  'ricevuta',
  'quittung',
  'beleg',
  'kassenbon',
  'recibo',
  'page',
  'of',
]);

/** Words that open a line naming how a receipt was paid, when no label says so. */
export const TENDER_WORDS: readonly string[] = [
  'cash',
  'visa',
  'mastercard',
  'master card',
  'amex',
  'american express',
  'maestro',
  'discover',
  'debit card',
  'credit card',
  'debit',
  'girocard',
  'ec card',
  'paypal',
  'apple pay',
  'google pay',
  'contactless',
  'interac',
  'eftpos',
];

/** Words around a tax label that say how it was computed, not what it is (`VAT incl.`). */
export const LABEL_FILLER: ReadonlySet<string> = new Set([
  'incl',
  'including',
  'included',
  'inclusive',
  'inkl',
  'inclusa',
  'incluso',
  'compris',
  'at',
]);
