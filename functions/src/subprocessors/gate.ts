/**
 * The sub-processor gate (`provenant subprocessors check`, run by CI): the registry as it
 * stands must keep its promises to customers, and agree with the hosts the code can reach.
 * Checked on the whole registry, not on a diff, so no order of commits dodges a rule.
 */
import {
  addDays,
  GRANDFATHERED_IDS,
  inForceOn,
  REGISTRY_ESTABLISHED,
  upcomingOn,
  type SubprocessorRegistry,
} from './registry';

/** A host the code can connect to, and where the code does so. */
export interface CodeHost {
  host: string;
  /** Where in the code the host is called from, for the finding's message. */
  usedBy: string;
  /**
   * The registry id the runtime checks before calling this host (a provider's name), when
   * there is one: the entry owning the host must carry that id, or enforcement would miss it.
   */
  subprocessor?: string;
  /**
   * The code checks the registry before each call to this host and sends nothing while the
   * vendor is not in force (the notice mailer, `webhooks/mailer.ts`). Such a host may belong to
   * a vendor that is announced and still in its notice period: the code can land while
   * customers are being told, and starts calling on the effective day. Retired, retiring past
   * its end or unlisted stays a finding.
   */
  refusedUntilInForce?: boolean;
}

export const GATE_RULES = [
  'notice_period',
  'grandfathered_after_registry',
  'missing_purpose',
  'missing_dpa_reference',
  'unregistered_host',
  'host_not_in_force',
  'runtime_id_mismatch',
  'active_entry_unused',
] as const;
export type GateRule = (typeof GATE_RULES)[number];

export interface GateFinding {
  rule: GateRule;
  /** The registry entry concerned, or null for a host no entry lists. */
  id: string | null;
  message: string;
}

export interface GateInput {
  registry: SubprocessorRegistry;
  codeHosts: readonly CodeHost[];
  /** The day the check runs (UTC), `YYYY-MM-DD`. */
  today: string;
  noticeDays: number;
}

/** Every broken rule; an empty list passes. */
export function checkRegistry({
  registry,
  codeHosts,
  today,
  noticeDays,
}: GateInput): GateFinding[] {
  const findings: GateFinding[] = [];
  for (const e of registry.entries) {
    if (e.grandfathered !== undefined) {
      // Grandfathering exempts from the notice period only what was in force before the
      // registry existed: a later vendor cannot claim it.
      if (e.effective > REGISTRY_ESTABLISHED || !GRANDFATHERED_IDS.includes(e.id)) {
        findings.push({
          rule: 'grandfathered_after_registry',
          id: e.id,
          message: `${e.id} is grandfathered, but only ${GRANDFATHERED_IDS.join(', ')}, in force when the registry was established (${REGISTRY_ESTABLISHED}), may be`,
        });
      }
    } else {
      const earliest = addDays(e.announced, noticeDays);
      if (e.effective < earliest) {
        findings.push({
          rule: 'notice_period',
          id: e.id,
          message: `${e.id} takes effect on ${e.effective}, before ${earliest}: announced on ${e.announced}, it needs ${String(noticeDays)} days' notice`,
        });
      }
    }
    if (e.purpose.trim() === '') {
      findings.push({ rule: 'missing_purpose', id: e.id, message: `${e.id} has no purpose` });
    }
    if (e.dpa.reference.trim() === '') {
      findings.push({
        rule: 'missing_dpa_reference',
        id: e.id,
        message: `${e.id} has no DPA reference`,
      });
    }
  }

  const used = new Set<string>();
  for (const { host, usedBy, subprocessor, refusedUntilInForce } of codeHosts) {
    const owner = registry.byHost(host);
    if (!owner) {
      findings.push({
        rule: 'unregistered_host',
        id: null,
        message: `the code calls ${host} (${usedBy}), which no sub-processor lists`,
      });
      continue;
    }
    used.add(owner.id);
    const waitsForIt = refusedUntilInForce === true && upcomingOn(owner, today);
    if (!inForceOn(owner, today) && !waitsForIt) {
      findings.push({
        rule: 'host_not_in_force',
        id: owner.id,
        message: `the code calls ${host} (${usedBy}), but ${owner.id} is not in force on ${today} (status ${owner.status}, effective ${owner.effective})`,
      });
    }
    if (subprocessor !== undefined && subprocessor !== owner.id) {
      findings.push({
        rule: 'runtime_id_mismatch',
        id: owner.id,
        message: `${host} (${usedBy}) is checked at runtime as ${subprocessor}, but the registry lists it under ${owner.id}`,
      });
    }
  }
  for (const e of registry.entries) {
    if (e.status === 'active' && inForceOn(e, today) && !used.has(e.id)) {
      findings.push({
        rule: 'active_entry_unused',
        id: e.id,
        message: `${e.id} is active, but the code calls none of its hosts (${e.hosts.join(', ') || 'none listed'}): retire it or list the hosts the code reaches`,
      });
    }
  }
  return findings;
}
