/**
 * `provenant subprocessors` as CI and an operator run it: the built CLI as a process, over the
 * repository's registry and a copy broken the way the gate must catch.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { addDays, dayOf } from '../../functions/src/subprocessors/registry';
import { entry } from '../support/subprocessors';

const exec = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'scripts', 'provenant.js');

// Each test starts the CLI (Node loading the provider and Google clients) once or twice; on a
// loaded 2-core machine one start took ten seconds. A budget for processes, not a latency claim.
jest.setTimeout(90_000);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, 'subprocessors', ...args], {
      cwd: root,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npx provenant subprocessors', () => {
  it('check passes on the committed registry and fails a 10-day notice with exit 2', async () => {
    expect((await cli('check')).code).toBe(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'sp-cli-'));
    cpSync(path.join(root, 'subprocessors'), dir, { recursive: true });
    const today = dayOf(new Date());
    writeFileSync(
      path.join(dir, 'ocr-co.yaml'),
      stringify(
        entry({
          id: 'ocr-co',
          hosts: ['ocr-co.example'],
          announced: today,
          effective: addDays(today, 10),
        }),
      ),
    );
    const failed = await cli('check', '--registry', dir, '--json');
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      ok: false,
      findings: [{ rule: 'notice_period', id: 'ocr-co' }],
    });
  });

  it('diff prints the change set between two git refs as JSON, and refuses an unknown ref', async () => {
    const same = await cli('diff', 'HEAD', 'HEAD');
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toEqual({ changes: [] });
    const unknown = await cli('diff', 'HEAD', 'no-such-ref-anywhere');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/git rev-parse failed/);
  });

  it('build writes the page, its stylesheet, the registry as JSON and the Atom feed', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'sp-page-'));
    const built = await cli('build', '--out', out, '--json');
    expect(built.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'feed.xml',
      'index.html',
      'style.css',
      'subprocessors.json',
    ]);
  });
});
