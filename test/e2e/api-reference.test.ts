/**
 * Issue 18, the API reference as a customer's developer and an auditor use it against the
 * running stack: the served OpenAPI document's scopes (and the server enforcing them), a webhook
 * the stack delivers checked with docs/api.md's own snippet, a custom-schema result and the
 * evidence ids as the page shows them, the audit bucket's layout, and the platform public key
 * pinned from the API and used by the CLI run as a process.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Storage } from '@google-cloud/storage';
import { parseConfig } from '../../functions/src/config';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { readDoc, runWebhookSnippet, section, tableRows, taggedBlock } from '../support/api-docs';
import {
  callApi,
  eventually,
  extractInvoice,
  stack,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';

const exec = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const doc = readDoc('docs/api.md');

let services: Services;
let tenantId: string;
let apiKey: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  const onboarded = await onboardTenant(services, {
    tenantId: `apiref-${randomBytes(5).toString('hex')}`,
    name: 'API reference',
  });
  tenantId = onboarded.tenant.id;
  apiKey = onboarded.apiKey.token;
});

afterAll(async () => {
  await services.close();
});

interface Operation {
  security?: Record<string, string[]>[];
  'x-provenant-scope'?: string;
}

describe('scopes per route', () => {
  it('the served document states each scoped route’s scope, and the server refuses a key without it', async () => {
    const served = await callApi('/v1/openapi.json');
    expect(served.status).toBe(200);
    const paths = (served.body as { paths: Record<string, Record<string, Operation>> }).paths;
    const scoped = Object.entries(paths).flatMap(([p, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        op['x-provenant-scope'] ? [{ method, path: p, op, scope: op['x-provenant-scope'] }] : [],
      ),
    );
    expect(paths['/v1/webhooks']?.post?.['x-provenant-scope']).toBe('keys:admin');
    expect(scoped.length).toBeGreaterThan(10);

    // One key per scope, holding every scope but that one.
    const all = ['extractions:write', 'extractions:read', 'schemas:write', 'keys:admin'];
    const without = new Map<string, string>();
    for (const scope of all) {
      const issued = await callApi('/v1/api-keys', {
        method: 'POST',
        key: apiKey,
        body: { name: `without ${scope}`, scopes: all.filter((s) => s !== scope) },
      });
      expect(issued.status).toBe(201);
      without.set(scope, (issued.body as { token: string }).token);
    }
    for (const { method, path: p, op, scope } of scoped) {
      expect(op.security).toEqual([{ bearer: [scope] }]);
      // The scope is checked before anything of the request is read: no body, dummy ids.
      const url = p.replace(/\{[^}]+\}/g, 'ex_0');
      const refused = await callApi(url, { method: method.toUpperCase(), key: without.get(scope) });
      expect({ route: `${method} ${p}`, status: refused.status, body: refused.body }).toMatchObject(
        {
          route: `${method} ${p}`,
          status: 403,
          body: {
            error: {
              code: 'insufficient_scope',
              message: expect.stringContaining(scope) as string,
            },
          },
        },
      );
      const allowed = await callApi(url, { method: method.toUpperCase(), key: apiKey });
      expect({ route: `${method} ${p}`, status: allowed.status }).not.toEqual({
        route: `${method} ${p}`,
        status: 403,
      });
    }
  });
});

describe('webhooks', () => {
  it('a delivery by the running stack verifies with the page’s snippet, and a tampered one does not', async () => {
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const created = await callApi('/v1/webhooks', {
        method: 'POST',
        key: apiKey,
        body: { url: `http://127.0.0.1:${String(port)}/provenant` },
      });
      expect(created.status).toBe(201);
      const { id: webhookId, secret } = created.body as { id: string; secret: string };
      const done = await extractInvoice(apiKey, 'Vendor: Reference Ltd\nTotal: 12.00');
      const got = await eventually(() => Promise.resolve(received[0]));
      const header = String(got.headers['provenant-signature']);
      const tampered = Buffer.from(got.body.toString('utf8').replace(done.id, 'ex_other'));
      expect(
        await runWebhookSnippet([
          { secret, header, body: got.body },
          { secret, header, body: tampered },
          { secret: 'whsec_not-this-one', header, body: got.body },
        ]),
      ).toEqual([true, false, false]);
      const event = JSON.parse(got.body.toString('utf8')) as { type: string; data: unknown };
      const documented = tableRows(section(doc, 'Events')).map((c) =>
        (c[0] ?? '').replace(/`/g, ''),
      );
      expect(documented).toContain(event.type);
      expect(got.headers['provenant-event-type']).toBe(event.type);
      expect(event.data).toEqual({
        extractionId: done.id,
        status: 'succeeded',
        evidenceId: done.evidenceId,
      });
      // The later tests' outcomes are not for this receiver, which closes now.
      const deleted = await callApi(`/v1/webhooks/${webhookId}`, { method: 'DELETE', key: apiKey });
      expect(deleted.status).toBe(204);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  });
});

describe('custom-schema results and evidence ids', () => {
  it('a custom-schema result has the documented shape; its evidence and erasure ids follow the scheme', async () => {
    const name = `apiref-${randomBytes(3).toString('hex')}`;
    const registered = await callApi('/v1/schemas', {
      method: 'POST',
      key: apiKey,
      body: {
        name,
        jsonSchema: {
          type: 'object',
          properties: {
            supplierName: { type: 'string' },
            contractValue: { type: ['number', 'null'] },
          },
          required: ['supplierName', 'contractValue'],
          additionalProperties: false,
        },
      },
    });
    expect(registered.status).toBe(201);
    const submitted = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey,
      body: {
        document: {
          contentType: 'text/plain',
          text: withCanary('Supplier Name: Contoso Metals\nContract Value: 5000.00'),
        },
        schema: name,
      },
    });
    expect(submitted.status).toBe(202);
    const done = await waitForTerminal((submitted.body as ExtractionBody).id, apiKey, 60_000);
    expect(done.status).toBe('succeeded');
    const example = JSON.parse(taggedBlock(doc, 'custom-result')) as object;
    expect(Object.keys(done.result ?? {}).sort()).toEqual(Object.keys(example).sort());

    // ex_ + 24 hex; its evidence ev_{extractionId}; an erasure's ev_erasure_{extractionId}.
    expect(done.id).toMatch(/^ex_[0-9a-f]{24}$/);
    expect(done.evidenceId).toBe(`ev_${done.id}`);
    const record = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key: apiKey });
    expect(record.body).toMatchObject({ id: done.evidenceId, kind: 'extraction' });
    const erased = await callApi(`/v1/extractions/${done.id}`, { method: 'DELETE', key: apiKey });
    expect(erased.status).toBe(204);
    const erasure = await callApi(`/v1/evidence/ev_erasure_${done.id}`, { key: apiKey });
    expect(erasure.status).toBe(200);
    expect(erasure.body).toMatchObject({
      kind: 'erasure',
      subject: { type: 'extraction', id: done.id },
    });
  });
});

describe('the audit bucket and the platform public key', () => {
  it('seals land under evidence/{tenant}/{date}/{seq}; the pinned key from the API verifies a receipt with the CLI', async () => {
    const done = await extractInvoice(apiKey, 'Vendor: Audit Layout Ltd\nTotal: 7.00');
    const receipt = await eventually(async () => {
      const reply = await callApi(`/v1/extractions/${done.id}/receipt`, { key: apiKey });
      return reply.status === 200 ? (reply.body as { publicKeyPem: string }) : undefined;
    }, 60_000);

    // The layout as the page prints it, read with the official client as an auditor would.
    const layout = taggedBlock(doc, 'audit-layout')
      .split('\n')
      .map(
        (line) =>
          new RegExp(
            `^${line
              .replace(`gs://{AUDIT_BUCKET}/`, '')
              .replace(/\./g, '\\.')
              .replace('{tenantId}', tenantId)
              .replace('{yyyy}/{mm}/{dd}', '\\d{4}/\\d{2}/\\d{2}')
              .replace('{seq}', '\\d{6}')
              .replace('{sha256}', '[0-9a-f]{64}')
              // docs/witness.md: tile/<L>/<N>[.p/<W>], tile/entries/…, checkpoints/{seq6},
              // witnesses/{keyId}.vkey, cosignatures/{keyId}/{seq6}
              .replace(
                '{tlogPath}',
                '(tile/(entries|\\d+)(/x\\d{3})*/\\d{3}(\\.p/\\d+)?|checkpoints/\\d{6}|witnesses/[0-9a-f]+\\.vkey|cosignatures/[0-9a-f]+/\\d{6})',
              )}$`,
          ),
      );
    const storage = new Storage({
      apiEndpoint: `http://${stack().emulators.storage}`,
      projectId: stack().projectId,
    });
    const [files] = await storage
      .bucket(stack().resources.auditBucket)
      .getFiles({ prefix: `evidence/${tenantId}/` });
    const names = files.map((f) => f.name);
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const name of names) expect(layout.some((re) => re.test(name))).toBe(true);
    expect(names.filter((n) => n.endsWith('.seal.json')).length).toBe(
      names.filter((n) => n.endsWith('.jsonl')).length,
    );

    // The key from the API, fetched with the page's own command, pinned for the CLI.
    const work = mkdtempSync(path.join(os.tmpdir(), 'provenant-apiref-'));
    await exec('bash', ['-c', taggedBlock(doc, 'fetch-public-key')], {
      cwd: work,
      env: { PATH: process.env.PATH, API: stack().apiUrl, PROVENANT_API_KEY: apiKey },
    });
    const file = {
      receipt: path.join(work, 'receipt.json'),
      pinned: path.join(work, 'platform.pem'),
      other: path.join(work, 'other.pem'),
    };
    const publicKeyPem = readFileSync(file.pinned, 'utf8');
    expect(publicKeyPem).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n?$/,
    );
    expect(receipt.publicKeyPem).toBe(publicKeyPem);
    writeFileSync(file.receipt, JSON.stringify(receipt));
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    writeFileSync(file.other, otherKey.export({ type: 'spki', format: 'pem' }).toString());
    const cli = async (pem: string) => {
      const args = ['audit', 'verify-receipt', file.receipt, '--public-key', pem];
      try {
        await exec(process.execPath, [path.join(root, 'scripts', 'provenant.js'), ...args], {
          cwd: work,
        });
        return 0;
      } catch (err) {
        return (err as { code?: number }).code ?? -1;
      }
    };
    expect(await cli(file.pinned)).toBe(0);
    expect(await cli(file.other)).toBe(2);
  });
});
