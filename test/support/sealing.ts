/**
 * Sealing a tenant's log from a test, up to now. The local stack's scheduler seals every log
 * too (every few seconds, with a 2 s window), so a pass here can find the next seal's intent
 * held by it: that seal then carries the scheduler's older cutoff, and newer records wait for
 * another pass. Only a pass that finds nothing to seal, and no other sealer at work, means
 * every record committed before it started is sealed and exported.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../functions/src/config';
import { sealTenantEvidence } from '../../functions/src/ledger/sealer';
import { createServices, type Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';

/** `services` must be configured with SEAL_SAFETY_SECONDS=0, or the newest records wait. */
export async function sealEverything(
  services: Services,
  tenant: TenantProfile,
  timeoutMs = 60_000,
): Promise<void> {
  if (services.config.SEAL_SAFETY_SECONDS !== 0) {
    throw new Error('sealEverything needs services with SEAL_SAFETY_SECONDS=0');
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await sealTenantEvidence(services, tenant, new Date());
    if (outcome.seq === null && outcome.contendedSeq === undefined) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the log of ${tenant.id} was still being sealed after ${String(timeoutMs)} ms`,
      );
    }
    // Another sealer holds the intent: let it finish before trying the next seq.
    if (outcome.contendedSeq !== undefined) await sleep(100);
  }
}

/**
 * `sealEverything` with services of its own (no safety window), for a test whose services keep
 * the stack's window, or that sealed through `provenant seal` and must know the pass was not
 * left short by the scheduler.
 */
export async function sealEverythingNow(tenantId: string): Promise<void> {
  const services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  try {
    const tenant = await services.platform.getTenant(tenantId);
    if (!tenant) throw new Error(`tenant ${tenantId} does not exist`);
    await sealEverything(services, tenant);
  } finally {
    await services.close();
  }
}
