/** The shapes of the evidence pack, shared by its builder and its report. */
import type { VerifyProblem } from '../verify-export';
import type { ControlChange } from './changes';
import type { Continuity } from './continuity';
import type { PackEvent } from './events';
import type { Period } from './log';
import type { SampleEntry } from './sample';

export const PACK_VERSION = 1;

export interface PackSummary {
  version: typeof PACK_VERSION;
  tenantId: string;
  period: Period;
  generatedAt: string;
  location: string;
  trustRoot: { fingerprint: string };
  seed: string;
  verification: {
    ok: boolean;
    logs: {
      tenantId: string;
      seals: number;
      records: number;
      treeSize: number;
      rootHash: string | null;
      coverage: { from: string; to: string } | null;
      problemCount: number;
      /** The first problems (at most 50); the CLI's `audit verify --json` lists all. */
      problems: VerifyProblem[];
    }[];
  };
  continuity: Continuity;
  counts: {
    records: number;
    extractions: number;
    changes: number;
    sample: number;
    sampleVerified: number;
    access: number;
    notices: number;
    keyEvents: number;
    otherEvents: number;
  };
}

export interface EvidencePack {
  summary: PackSummary;
  changes: ControlChange[];
  sample: SampleEntry[];
  access: PackEvent[];
  notices: PackEvent[];
  keys: PackEvent[];
  other: PackEvent[];
}
