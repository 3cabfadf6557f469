import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { registryChangelog, type ChangelogEntry } from '../../functions/src/subprocessors/git';
import {
  defaultRegistryDir,
  loadRegistry,
  SubprocessorRegistry,
} from '../../functions/src/subprocessors/registry';
import { buildTrustPage } from '../../functions/src/subprocessors/trust-page';
import { atomEntries, atomProblems } from '../support/atom';
import { entry } from '../support/subprocessors';
import { parseXml } from '../support/xml';

const root = path.dirname(defaultRegistryDir());
const registry = loadRegistry(defaultRegistryDir());

/** A vendor whose every text field tries to break out of its markup. */
const hostile = entry({
  id: 'evil',
  legalName: 'Evil <script>alert(1)</script> & "Co" \'Ltd\'',
  purpose: 'OCR ]]> <b>bold</b> &amp;',
  reason: 'because <reasons> & more',
  announced: '2026-12-01',
  effective: '2026-12-31',
});
const hostileLog: ChangelogEntry[] = [
  {
    commit: 'a'.repeat(40),
    date: '2026-12-01T10:00:00+01:00',
    subject: 'add evil',
    parent: null,
    changes: [{ id: 'evil', kind: 'added', fields: ['id'], after: hostile }],
  },
];

describe('the trust page feed is Atom 1.0 (RFC 4287)', () => {
  it('for the registry and its git history as committed', () => {
    const changelog = registryChangelog(root);
    expect(changelog.length).toBeGreaterThan(0);
    const page = buildTrustPage({ registry, changelog, today: '2026-11-30', noticeDays: 30 });
    const feed = page['feed.xml'] ?? '';
    expect(atomProblems(feed)).toEqual([]);
    // One entry per change of each commit, each linking to its line of the changelog.
    const entries = atomEntries(feed);
    expect(entries).toHaveLength(changelog.reduce((n, c) => n + c.changes.length, 0));
    for (const e of entries) {
      expect(page['index.html']).toContain(`id="${e.href.split('#')[1] ?? ''}"`);
    }
  });

  it('with hostile text in every field, absolute links under a base URL, and no history', () => {
    const page = buildTrustPage({
      registry: new SubprocessorRegistry([hostile]),
      changelog: hostileLog,
      today: '2026-12-02',
      noticeDays: 30,
      baseUrl: 'https://trust.example.com/subprocessors/',
    });
    const feed = page['feed.xml'] ?? '';
    expect(atomProblems(feed)).toEqual([]);
    const [only] = atomEntries(feed);
    expect(only?.title).toBe(`${hostile.legalName} added (active, effective 2026-12-31)`);
    expect(only?.href).toMatch(
      /^https:\/\/trust\.example\.com\/subprocessors\/index\.html#change-/,
    );
    // The git date with an offset is the same instant in UTC.
    expect(feed).toContain('<updated>2026-12-01T09:00:00Z</updated>');
    expect(page['index.html']).not.toContain('<script>');
    const empty = buildTrustPage({ registry, changelog: [], today: '2026-11-30', noticeDays: 30 });
    expect(atomProblems(empty['feed.xml'] ?? '')).toEqual([]);
  });

  it('the checker itself refuses what is not Atom', () => {
    const good =
      buildTrustPage({ registry, changelog: hostileLog, today: '2026-12-02', noticeDays: 30 })[
        'feed.xml'
      ] ?? '';
    expect(atomProblems(good.replace(/<id>urn:provenant:subprocessors<\/id>/, ''))).toEqual([
      'feed has 0 atom:id (exactly one required)',
    ]);
    expect(
      atomProblems(good.replace('http://www.w3.org/2005/Atom', 'http://example.com/ns'))[0],
    ).toMatch(/not atom:feed/);
    expect(atomProblems(good.replace('<author><name>Provenant</name></author>', ''))).toEqual([
      'entry 1: no atom:author, and the feed has none',
    ]);
    expect(
      atomProblems(good.replace(/<updated>2026-12-01T09:00:00Z/, '<updated>1 Dec 2026')).join(),
    ).toMatch(/not an RFC 3339 date-time/);
    expect(atomProblems(good.replace('</feed>', '')).join()).toMatch(/not well-formed/);
    expect(atomProblems(good.replace('&amp;', '&')).join()).toMatch(/bare '&'/);
  });

  it('subprocessors.json lists every entry with whether it is in force or upcoming', () => {
    const page = buildTrustPage({
      registry: new SubprocessorRegistry([...registry.entries, hostile]),
      changelog: [],
      today: '2026-12-02',
      noticeDays: 30,
    });
    const json = JSON.parse(page['subprocessors.json'] ?? '') as {
      subprocessors: { id: string; inForce: boolean; upcoming: boolean }[];
    };
    expect(json.subprocessors.map(({ id, inForce, upcoming }) => [id, inForce, upcoming])).toEqual([
      // The notice relay, announced 2026-11-30, in force from 2026-12-30.
      ['amazon-ses', false, true],
      ['anthropic', true, false],
      ['evil', false, true],
      ['google-cloud', true, false],
      ['openai', true, false],
    ]);
  });
});

describe('the XML parser the Atom check stands on', () => {
  it('resolves namespaces and decodes references', () => {
    const el = parseXml(
      '<?xml version="1.0"?><a xmlns="urn:x" xmlns:p="urn:p"><p:b c="&lt;&#65;">t&amp;&#x42;</p:b></a>',
    );
    expect(el.ns).toBe('urn:x');
    expect(el.children[0]).toMatchObject({
      ns: 'urn:p',
      local: 'b',
      attrs: { c: '<A' },
      text: 't&B',
    });
  });

  it.each([
    ['<a><b></a></b>', /closes/],
    ['<a x="1" x="2"/>', /duplicate attribute/],
    ['<a>&nbsp;</a>', /unknown entity/],
    ['<p:a/>', /undeclared prefix/],
    ['<a/><b/>', /content after the root/],
    ['<a x=1/>', /malformed start tag/],
  ])('refuses %s', (xml, message) => {
    expect(() => parseXml(xml)).toThrow(message);
  });

  it('git is available to the changelog', () => {
    expect(execFileSync('git', ['--version'], { encoding: 'utf8' })).toMatch(/^git version/);
  });
});
