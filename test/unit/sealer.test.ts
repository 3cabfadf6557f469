import { createHash } from 'node:crypto';
import { sealOutcomeLine } from '../../functions/src/cli/seal';
import { nodeHash, rootHash } from '../../functions/src/evidence/merkle';
import {
  appendLeaves,
  appendToFrontier,
  frontierRoot,
  retentionDays,
  runSealPass,
  type Frontier,
  type SealOutcome,
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

/** RFC 6962 section 2.1 written out plainly, sharing no code with the module under test. */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(referenceRoot(leaves.slice(0, k)))
    .update(referenceRoot(leaves.slice(k)))
    .digest();
}

describe('the optimized sealing fold yields the same bytes as the reference', () => {
  it('gives the stored frontier and root of one-leaf-at-a-time appends, in batches of any size', () => {
    const leaves = Array.from({ length: 610 }, (_, i) => leaf(i));
    // Batches that start and end on and off perfect-subtree boundaries, as successive seals do.
    const batches = [1, 2, 5, 8, 64, 100, 127, 128, 145, 0, 30];
    let reference: Frontier = { size: 0, nodes: [] };
    let optimized: Frontier = { size: 0, nodes: [] };
    let at = 0;
    for (const count of batches) {
      const batch = leaves.slice(at, at + count);
      at += count;
      for (const l of batch) reference = appendToFrontier(reference, l);
      // Through JSON, as the frontier is stored in the seal document and read by the next seal.
      optimized = appendLeaves(JSON.parse(JSON.stringify(optimized)) as Frontier, batch);
      expect(optimized).toEqual(reference);
      expect(frontierRoot(optimized).toString('hex')).toBe(
        referenceRoot(leaves.slice(0, at)).toString('hex'),
      );
    }
    expect(at).toBe(leaves.length);
  });

  it('hashes interior nodes as SHA-256(0x01 || left || right), whatever the buffers share', () => {
    const backing = Buffer.concat([leaf(1), leaf(2)]);
    const left = backing.subarray(0, 32);
    const right = backing.subarray(32);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0x01]), left, right]))
      .digest();
    const first = nodeHash(left, right);
    expect(first.toString('hex')).toBe(expected.toString('hex'));
    // The result is not a view of a reused buffer: a later call leaves it unchanged.
    nodeHash(right, left);
    expect(first.toString('hex')).toBe(expected.toString('hex'));
    // Inputs that are not 32 bytes take the general path and still hash the concatenation.
    const short = Buffer.from('ab');
    expect(nodeHash(short, right).toString('hex')).toBe(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0x01]), short, right]))
        .digest('hex'),
    );
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

describe('a seal pass (runSealPass): busy tenants catch up, every tenant is attempted', () => {
  type Tenant = { id: string };
  const outcome = (tenantId: string, seq: number | null, records: number): SealOutcome => ({
    tenantId,
    seq,
    records,
    exported: seq !== null,
    resumed: false,
  });
  const failedOutcome = (tenant: Tenant, err: unknown): SealOutcome => ({
    ...outcome(tenant.id, null, 0),
    error: String(err),
  });

  /** A tenant with `waiting` records seals them `batch` at a time, like sealTenantEvidence. */
  function backlog(waiting: Record<string, number>, batch: number) {
    const left = { ...waiting };
    const seqs: Record<string, number> = {};
    return async (tenant: Tenant): Promise<SealOutcome> => {
      await Promise.resolve();
      const n = Math.min(batch, left[tenant.id] ?? 0);
      if (n === 0) return outcome(tenant.id, null, 0);
      left[tenant.id] = (left[tenant.id] ?? 0) - n;
      seqs[tenant.id] = (seqs[tenant.id] ?? 0) + 1;
      return outcome(tenant.id, seqs[tenant.id] ?? 0, n);
    };
  }

  it('seals a tenant again while its seals are full, until its window is empty', async () => {
    const tenants = [{ id: 'busy' }, { id: 'quiet' }];
    const outcomes = await runSealPass(
      tenants,
      backlog({ busy: 25, quiet: 3 }, 10),
      failedOutcome,
      { fullBatch: 10 },
    );
    expect(outcomes.map((o) => [o.tenantId, o.seq, o.records])).toEqual([
      ['busy', 1, 10],
      ['busy', 2, 10],
      ['busy', 3, 5],
      ['quiet', 1, 3],
    ]);
  });

  it('stops starting seals at the deadline, leaving the rest for the next pass', async () => {
    let now = 0;
    const seal = backlog({ busy: 100 }, 10);
    const outcomes = await runSealPass(
      [{ id: 'busy' }],
      async (t) => {
        now += 60_000;
        return seal(t);
      },
      failedOutcome,
      { fullBatch: 10, deadline: 150_000, clock: () => now },
    );
    expect(outcomes.map((o) => o.seq)).toEqual([1, 2, 3]);
  });

  it('attempts every tenant when one fails, and names the failure', async () => {
    const seal = backlog({ a: 1, c: 1 }, 10);
    const outcomes = await runSealPass(
      [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      (t) => (t.id === 'b' ? Promise.reject(new Error('locked object differs')) : seal(t)),
      failedOutcome,
    );
    expect(outcomes.map((o) => [o.tenantId, o.seq, o.error])).toEqual([
      ['a', 1, undefined],
      ['b', null, 'Error: locked object differs'],
      ['c', 1, undefined],
    ]);
  });

  it('runs at most `parallel` tenants at once', async () => {
    let running = 0;
    let most = 0;
    const tenants = Array.from({ length: 40 }, (_, i) => ({ id: `t${String(i)}` }));
    await runSealPass(
      tenants,
      async (t) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        return outcome(t.id, null, 0);
      },
      failedOutcome,
      { parallel: 4 },
    );
    expect(most).toBe(4);
  });
});

describe('`provenant seal` output, one line per tenant', () => {
  const base: SealOutcome = {
    tenantId: 'acme',
    seq: null,
    records: 0,
    exported: false,
    resumed: false,
  };
  it.each([
    [base, 'acme: nothing new to seal'],
    [{ ...base, seq: 4, records: 12, exported: true }, 'acme: seal 4 with 12 record(s)'],
    [{ ...base, seq: 4, records: 2, resumed: true }, 'acme: seal 4 with 2 record(s) (resumed)'],
    [{ ...base, error: 'locked object differs' }, 'acme: FAILED: locked object differs'],
    // Not "nothing new": records are waiting, and another sealer instance is sealing them.
    [
      { ...base, contendedSeq: 5 },
      'acme: seal 5 is being made by another sealer; run again to seal what it leaves',
    ],
  ])('%o prints %s', (outcome, line) => {
    expect(sealOutcomeLine(outcome)).toBe(line);
  });
});
