/**
 * The trust page on the local stack: built at start with the same code as `provenant
 * subprocessors build` (the registry and its git history), written to `.local/` and served as
 * static files, so a person (and the browser test) sees what customers would see.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { registryChangelog } from '../../functions/src/subprocessors/git';
import {
  dayOf,
  DEFAULT_NOTICE_DAYS,
  loadRegistry,
} from '../../functions/src/subprocessors/registry';
import { buildTrustPage } from '../../functions/src/subprocessors/trust-page';
import type { RunningEmulator } from './emulators/running';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/atom+xml; charset=utf-8',
};

export interface TrustPageOptions {
  /** The repository: its `subprocessors/` and its git history. */
  root: string;
  /** Where the built page is written (replaced at each start). */
  outDir: string;
  port?: number;
}

export async function startTrustPage(options: TrustPageOptions): Promise<RunningEmulator> {
  const base = (port: number) => `http://127.0.0.1:${String(port)}/`;
  rmSync(options.outDir, { recursive: true, force: true });
  mkdirSync(options.outDir, { recursive: true });

  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/$/, '/index.html');
    const file = name.slice(1);
    // Only the page's own files, by exact name: no path is ever joined from the request.
    const type = files.has(file) ? CONTENT_TYPES[path.extname(file)] : undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (type === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } else {
      const body = readFileSync(path.join(options.outDir, file));
      res.writeHead(200, { 'content-type': type, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const built = buildTrustPage({
    registry: loadRegistry(path.join(options.root, 'subprocessors')),
    changelog: registryChangelog(options.root),
    today: dayOf(new Date()),
    noticeDays: DEFAULT_NOTICE_DAYS,
    baseUrl: base(port),
  });
  const files = new Set(Object.keys(built));
  for (const [name, text] of Object.entries(built)) {
    writeFileSync(path.join(options.outDir, name), text);
  }
  return {
    host: `127.0.0.1:${String(port)}`,
    url: base(port).slice(0, -1),
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
