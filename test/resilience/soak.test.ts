/**
 * Issue 16's soak, short (the CI size; `npm run soak` runs 2,000 extractions from 32 clients):
 * 200 extractions from 8 concurrent clients on loopback. Zero lost, zero duplicated, every
 * succeeded extraction names its one evidence record, and every evidence record of the tenant
 * is sealed into an export that `provenant audit verify` accepts. The figures are printed.
 */
import { formatSoak, runSoak } from '../../scripts/bench/soak-run';
import { LOG_CANARY, stack } from '../support/api';
import { ROOT, resilienceTenant } from '../support/resilience';

jest.setTimeout(600_000);

it('a short soak, 200 extractions from 8 clients: none lost, none duplicated, all sealed and verified', async () => {
  const { tenantId, apiKey } = await resilienceTenant('soak');
  const figures = await runSoak({
    stack: stack(),
    root: ROOT,
    env: process.env,
    apiKey,
    tenantId,
    extractions: 200,
    clients: 8,
    marker: `Reference: ${LOG_CANARY}`,
  });
  process.stdout.write(`${formatSoak(figures, 8).join('\n')}\n`);
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
    accepted: 200,
    succeeded: 200,
    failed: {},
    lost: 0,
    duplicated: 0,
    withoutEvidence: 0,
    sealed: figures.evidenceRecords,
    verifyOk: true,
  });
});
