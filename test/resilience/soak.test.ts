/**
 * Issue 16's soak, short (`npm run soak` runs 2,000 extractions from 32 clients): by default
 * 200 extractions from 8 concurrent clients on loopback (`npm run test:resilience`); CI's short
 * run (`npm run test:resilience:short`) sizes it down with RESILIENCE_SOAK_EXTRACTIONS and
 * RESILIENCE_SOAK_CLIENTS. Zero lost, zero duplicated, every succeeded extraction names its one
 * evidence record, and every evidence record of the tenant is sealed into an export that
 * `provenant audit verify` accepts. The figures are printed.
 */
import { formatSoak, runSoak } from '../../scripts/bench/soak-run';
import { LOG_CANARY, stack } from '../support/api';
import { ROOT, resilienceTenant } from '../support/resilience';

jest.setTimeout(600_000);

/** A positive whole number from the environment, or the default; anything else stops the run. */
function size(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(raw)}`);
  return value;
}

const EXTRACTIONS = size('RESILIENCE_SOAK_EXTRACTIONS', 200);
const CLIENTS = size('RESILIENCE_SOAK_CLIENTS', 8);

it(`a short soak, ${String(EXTRACTIONS)} extractions from ${String(CLIENTS)} clients: none lost, none duplicated, all sealed and verified`, async () => {
  const { tenantId, apiKey } = await resilienceTenant('soak');
  const figures = await runSoak({
    stack: stack(),
    root: ROOT,
    env: process.env,
    apiKey,
    tenantId,
    extractions: EXTRACTIONS,
    clients: CLIENTS,
    marker: `Reference: ${LOG_CANARY}`,
  });
  process.stdout.write(`${formatSoak(figures, CLIENTS).join('\n')}\n`);
  expect({
    accepted: figures.accepted,
    succeeded: figures.succeeded,
    failed: figures.failed,
    lost: figures.lost,
    duplicated: figures.duplicated,
    withoutEvidence: figures.withoutEvidence,
    sealed: figures.sealedRecords,
    verifyOk: figures.verifyOk,
  }).toEqual({
    accepted: EXTRACTIONS,
    succeeded: EXTRACTIONS,
    failed: {},
    lost: 0,
    duplicated: 0,
    withoutEvidence: 0,
    sealed: figures.evidenceRecords,
    verifyOk: true,
  });
});
