/**
 * `npx provenant audit ...`: what an auditor runs against the exported evidence. Each command
 * lives in its own module under audit/; this one only groups them.
 */
import type { Command } from 'commander';
import { registerAuditExport } from './audit/export';
import {
  registerAuditConsistency,
  registerAuditFingerprint,
  registerAuditProve,
  registerAuditVerifyConsistency,
  registerAuditVerifyReceipt,
} from './audit/proofs';
import { registerAuditQuery, registerAuditSample } from './audit/query';
import { registerAuditReplay } from './audit/replay';
import { registerAuditVerify } from './audit/verify';
import type { CliIo } from './io';

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('verify and query the evidence trail');
  registerAuditExport(audit, io);
  registerAuditVerify(audit, io);
  registerAuditProve(audit, io);
  registerAuditConsistency(audit, io);
  registerAuditVerifyReceipt(audit, io);
  registerAuditVerifyConsistency(audit, io);
  registerAuditFingerprint(audit, io);
  registerAuditQuery(audit, io);
  registerAuditReplay(audit, io);
  registerAuditSample(audit, io);
}
