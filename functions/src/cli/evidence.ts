/** `provenant evidence show`: print one evidence record and check its content hash. */
import type { Command } from 'commander';
import { EvidenceRecordSchema, verifyContentHash, type EvidenceRecord } from '../evidence/record';
import type { Services } from '../services';
import { CliError, requireId, withServices } from './common';
import type { CliIo } from './io';

export function registerEvidenceCommands(program: Command, io: CliIo): void {
  const evidence = program.command('evidence').description('evidence records');
  registerShow(evidence, io);
}

function registerShow(evidence: Command, io: CliIo): void {
  evidence
    .command('show')
    .description('print an evidence record and check its content hash')
    .argument('<tenantId>')
    .argument('<evidenceId>')
    .option('--json', 'machine-readable output')
    .action((tenantId: string, evidenceId: string, options: { json?: boolean }) =>
      withServices(io, async (services) => {
        const record = await loadRecord(services, tenantId, evidenceId);
        const intact = verifyContentHash(record);
        if (options.json) io.out(JSON.stringify({ record, contentHashValid: intact }));
        else printRecord(io, record, intact);
        if (!intact) throw new CliError('the content hash does not match the record', 2);
      }),
    );
}

async function loadRecord(
  services: Services,
  tenantId: string,
  evidenceId: string,
): Promise<EvidenceRecord> {
  requireId(tenantId, 'tenant id');
  requireId(evidenceId, 'evidence id');
  const profile = await services.platform.getTenant(tenantId);
  if (!profile) throw new CliError(`tenant ${tenantId} not found`);
  const db = services.platform.tenantDb(profile);
  const data = await db.get('evidence', evidenceId);
  if (data) return EvidenceRecordSchema.parse(data);
  // The id people most often have at hand is the extraction's: point from it to its evidence.
  const extraction = await db.get('extractions', evidenceId);
  if (extraction) {
    throw new CliError(
      typeof extraction.evidenceId === 'string'
        ? `${evidenceId} is an extraction, not an evidence record: its evidence is ${extraction.evidenceId} (\`provenant evidence show ${tenantId} ${extraction.evidenceId}\`)`
        : `${evidenceId} is an extraction (status ${String(extraction.status)}) with no evidence record yet`,
    );
  }
  throw new CliError(`evidence ${evidenceId} not found in tenant ${tenantId}`);
}

function printRecord(io: CliIo, record: EvidenceRecord, intact: boolean): void {
  if (record.kind === 'extraction') {
    io.out(`evidence ${record.id} (extraction ${record.extractionId}) created ${record.createdAt}`);
    io.out(`model: ${record.model.provider} ${record.model.model} → ${record.model.modelVersion}`);
    io.out(
      `system prompt sha256 ${record.model.systemPromptSha256} (${record.model.promptTemplateVersion})`,
    );
    io.out(
      `post-processing: ${record.postProcessing.map((s) => `${s.step}@${String(s.version)}`).join(' → ')}`,
    );
  } else {
    io.out(
      `evidence ${record.id} (${record.kind} of ${record.subject.type} ${record.subject.id}) created ${record.createdAt}`,
    );
  }
  io.out(`content hash ${record.contentSha256}: ${intact ? 'valid' : 'MISMATCH'}`);
}
