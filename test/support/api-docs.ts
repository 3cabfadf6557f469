/**
 * Reads docs/api.md the way its tests need it: the route tables, the fenced blocks marked
 * `<!-- tested: NAME -->`, and the webhook verification snippet run as a customer would run it,
 * in a plain Node process, so the page cannot drift from the code or rot.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

export function readDoc(name: 'docs/api.md' | 'README.md'): string {
  return readFileSync(path.join(root, name), 'utf8');
}

/** The text under the heading `title` (any level), up to the next heading of any level. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '') === title);
  if (start === -1) throw new Error(`docs: no heading "${title}"`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^#+ /.test(l));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n');
}

/** The cells of every body row of the Markdown tables in `text` (header and rule excluded). */
export function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.startsWith('|')) return;
    if (/^\|[\s|:-]+\|$/.test(line)) return;
    if (lines[i + 1] !== undefined && /^\|[\s|:-]+\|$/.test(lines[i + 1] ?? '')) return;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  });
  return rows;
}

export interface DocumentedRoute {
  method: string;
  path: string;
  /** `none`, `operator` or the scope. */
  scope: string;
}

const unquote = (cell: string) => cell.replace(/`/g, '').trim();

/** The route table under `title`: method, path and scope of each row. */
export function routeTable(markdown: string, title: string): DocumentedRoute[] {
  return tableRows(section(markdown, title))
    .filter((cells) => /^`[A-Z]+`$/.test(cells[0] ?? ''))
    .map((cells) => ({
      method: unquote(cells[0] ?? ''),
      path: unquote(cells[1] ?? ''),
      scope: unquote(cells[2] ?? ''),
    }));
}

/** The fenced block right after `<!-- tested: name -->`. */
export function taggedBlock(markdown: string, name: string): string {
  const marker = `<!-- tested: ${name} -->`;
  const at = markdown.indexOf(marker);
  if (at === -1) throw new Error(`docs: no block marked ${marker}`);
  // A block inside a list item is indented; its lines lose that indentation.
  const match = /\n([ \t]*)```[a-z]*\n([\s\S]*?)\n[ \t]*```/.exec(
    markdown.slice(at + marker.length),
  );
  if (!match?.[2]) throw new Error(`docs: no fenced block after ${marker}`);
  const indent = match[1] ?? '';
  return match[2]
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
}

export interface SignatureCase {
  secret: string;
  header: string;
  /** The body bytes as received. */
  body: Buffer;
}

/**
 * Runs the page's `verifyProvenantSignature` snippet, exactly as printed, in a separate Node
 * process (what a customer pastes runs there, not in jest's sandbox) on each case.
 */
export function runWebhookSnippet(cases: SignatureCase[]): Promise<boolean[]> {
  const snippet = taggedBlock(readDoc('docs/api.md'), 'webhook-verify');
  const harness = `${snippet}
const cases = JSON.parse(process.env.SIGNATURE_CASES);
process.stdout.write(JSON.stringify(cases.map((c) =>
  verifyProvenantSignature(c.secret, c.header, Buffer.from(c.body, 'base64')))));`;
  const encoded = cases.map((c) => ({ ...c, body: c.body.toString('base64') }));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', harness],
      {
        cwd: root,
        env: { PATH: process.env.PATH, SIGNATURE_CASES: JSON.stringify(encoded) },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`the snippet failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as boolean[]);
      },
    );
  });
}
