import type { Subprocessor } from '../../functions/src/subprocessors/registry';

/** A valid entry to vary; `status` active in force since 2026-01-31. */
export function entry(overrides: Partial<Subprocessor> = {}): Subprocessor {
  return {
    id: 'vendor',
    legalName: 'Vendor Ltd',
    purpose: 'OCR',
    dataCategories: ['customer documents'],
    locations: ['EU'],
    dpa: { reference: 'DPA-1', signedOn: '2026-01-01' },
    retention: { control: 'zero retention', configuredIn: ['contract'] },
    hosts: ['api.vendor.example'],
    engagedFor: 'model-calls',
    status: 'active',
    announced: '2026-01-01',
    effective: '2026-01-31',
    reason: 'better OCR',
    ...overrides,
  };
}
