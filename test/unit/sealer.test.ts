import { createHash } from 'node:crypto';
import { rootHash } from '../../functions/src/evidence/merkle';
import {
  appendToFrontier,
  frontierRoot,
  retentionDays,
  type Frontier,
} from '../../functions/src/ledger/sealer';
import type { Services } from '../../functions/src/services';

const leaf = (i: number) =>
  createHash('sha256')
    .update(`leaf-${String(i)}`)
    .digest();

describe('the sealer frontier (appending to the log without re-reading old leaves)', () => {
  it('has the RFC 6962 root of the same leaves at every size up to 70', () => {
    let frontier: Frontier = { size: 0, nodes: [] };
    const leaves: Buffer[] = [];
    expect(frontierRoot(frontier).equals(rootHash([]))).toBe(true);
    for (let i = 0; i < 70; i++) {
      leaves.push(leaf(i));
      frontier = appendToFrontier(frontier, leaf(i));
      expect(frontier.size).toBe(i + 1);
      expect(frontierRoot(frontier).toString('hex')).toBe(rootHash(leaves).toString('hex'));
      // One perfect subtree per set bit of the size: O(log n) state.
      expect(frontier.nodes.length).toBe((i + 1).toString(2).replace(/0/g, '').length);
    }
  });

  it('gives another root when any leaf differs', () => {
    let a: Frontier = { size: 0, nodes: [] };
    let b: Frontier = { size: 0, nodes: [] };
    for (let i = 0; i < 13; i++) {
      a = appendToFrontier(a, leaf(i));
      b = appendToFrontier(b, leaf(i === 6 ? 600 : i));
    }
    expect(frontierRoot(a).equals(frontierRoot(b))).toBe(false);
  });
});

describe('evidence retention', () => {
  const services = { config: { EVIDENCE_RETENTION_DAYS: 2557 } } as unknown as Services;

  it('never goes below the platform minimum', () => {
    expect(retentionDays(services, {})).toBe(2557);
    expect(retentionDays(services, { retentionDays: 30 })).toBe(2557);
  });

  it('honours a tenant asking for longer', () => {
    expect(retentionDays(services, { retentionDays: 4000 })).toBe(4000);
  });
});
