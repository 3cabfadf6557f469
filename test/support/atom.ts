/**
 * A structural check of an Atom 1.0 feed against RFC 4287 (https://www.rfc-editor.org/rfc/rfc4287),
 * for tests: the XML parsed strictly (test/support/xml.ts), then the rules of sections 4.1.1
 * (feed), 4.1.2 (entry), 3.1 (text constructs), 3.2 (person constructs), 3.3 (dates) and 4.2.7
 * (links) that a feed reader relies on. Returns every problem found; empty means valid.
 */
import { parseXml, type XmlElement } from './xml';

export const ATOM_NS = 'http://www.w3.org/2005/Atom';

/** RFC 3339 date-time (section 3.3: uppercase T and Z, seconds required). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** An absolute IRI (section 4.2.6: an atom:id is an absolute IRI): a scheme, then no space. */
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

const atom = (el: XmlElement, local: string) =>
  el.children.filter((c) => c.ns === ATOM_NS && c.local === local);

function textConstruct(el: XmlElement, where: string, problems: string[]): void {
  const type = el.attrs.type ?? 'text';
  if (!['text', 'html', 'xhtml'].includes(type)) problems.push(`${where}: type ${type}`);
  if (type !== 'xhtml' && el.children.length > 0) problems.push(`${where}: child elements`);
}

function exactlyOne(parent: XmlElement, local: string, where: string, problems: string[]) {
  const found = atom(parent, local);
  if (found.length !== 1) {
    problems.push(`${where} has ${String(found.length)} atom:${local} (exactly one required)`);
  }
  return found[0];
}

function date(el: XmlElement | undefined, where: string, problems: string[]): number | undefined {
  if (!el) return undefined;
  const value = el.text.trim();
  if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    problems.push(`${where}: ${JSON.stringify(value)} is not an RFC 3339 date-time`);
    return undefined;
  }
  return Date.parse(value);
}

function links(parent: XmlElement, where: string, problems: string[]): XmlElement[] {
  const found = atom(parent, 'link');
  const alternates = new Set<string>();
  for (const link of found) {
    if (!link.attrs.href) problems.push(`${where}: atom:link without href`);
    if ((link.attrs.rel ?? 'alternate') === 'alternate') {
      const key = `${link.attrs.type ?? ''}|${link.attrs.hreflang ?? ''}`;
      if (alternates.has(key)) problems.push(`${where}: two alternate links of one type`);
      alternates.add(key);
    }
  }
  return found;
}

export function atomProblems(xml: string): string[] {
  const problems: string[] = [];
  let feed: XmlElement;
  try {
    feed = parseXml(xml);
  } catch (err) {
    return [`not well-formed XML: ${(err as Error).message}`];
  }
  if (feed.ns !== ATOM_NS || feed.local !== 'feed') {
    return [`root is {${feed.ns ?? ''}}${feed.local}, not atom:feed in ${ATOM_NS}`];
  }
  const id = exactlyOne(feed, 'id', 'feed', problems);
  if (id && !ABSOLUTE_IRI.test(id.text.trim())) problems.push('feed: id is not an absolute IRI');
  const title = exactlyOne(feed, 'title', 'feed', problems);
  if (title) textConstruct(title, 'feed title', problems);
  const feedUpdated = date(exactlyOne(feed, 'updated', 'feed', problems), 'feed updated', problems);
  for (const local of ['subtitle', 'generator', 'icon', 'logo', 'rights']) {
    if (atom(feed, local).length > 1) problems.push(`feed has more than one atom:${local}`);
  }
  for (const s of atom(feed, 'subtitle')) textConstruct(s, 'feed subtitle', problems);
  const authors = atom(feed, 'author');
  for (const a of authors) exactlyOne(a, 'name', 'feed author', problems);
  if (!links(feed, 'feed', problems).some((l) => l.attrs.rel === 'self')) {
    problems.push('feed: no rel="self" link (RFC 4287 4.1.1 says it SHOULD have one)');
  }

  const ids = new Set<string>();
  atom(feed, 'entry').forEach((entry, n) => {
    const where = `entry ${String(n + 1)}`;
    const entryId = exactlyOne(entry, 'id', where, problems)?.text.trim();
    if (entryId !== undefined) {
      if (!ABSOLUTE_IRI.test(entryId)) problems.push(`${where}: id is not an absolute IRI`);
      if (ids.has(entryId)) problems.push(`${where}: id ${entryId} repeats another entry's`);
      ids.add(entryId);
    }
    const entryTitle = exactlyOne(entry, 'title', where, problems);
    if (entryTitle) textConstruct(entryTitle, `${where} title`, problems);
    const updated = date(
      exactlyOne(entry, 'updated', where, problems),
      `${where} updated`,
      problems,
    );
    if (updated !== undefined && feedUpdated !== undefined && updated > feedUpdated) {
      problems.push(`${where}: updated after the feed's updated`);
    }
    // 4.1.1: a feed without an author needs one in every entry.
    if (authors.length === 0 && atom(entry, 'author').length === 0) {
      problems.push(`${where}: no atom:author, and the feed has none`);
    }
    const entryLinks = links(entry, where, problems);
    const content = atom(entry, 'content');
    if (content.length > 1) problems.push(`${where}: more than one atom:content`);
    if (
      content.length === 0 &&
      !entryLinks.some((l) => (l.attrs.rel ?? 'alternate') === 'alternate')
    ) {
      problems.push(`${where}: neither atom:content nor an alternate link`);
    }
    const summaries = atom(entry, 'summary');
    if (summaries.length > 1) problems.push(`${where}: more than one atom:summary`);
    for (const s of summaries) textConstruct(s, `${where} summary`, problems);
  });
  return problems;
}

/** The entries of a valid feed, as their ids, titles and alternate links. */
export function atomEntries(xml: string): { id: string; title: string; href: string }[] {
  return atom(parseXml(xml), 'entry').map((e) => ({
    id: atom(e, 'id')[0]?.text.trim() ?? '',
    title: atom(e, 'title')[0]?.text ?? '',
    href:
      atom(e, 'link').find((l) => (l.attrs.rel ?? 'alternate') === 'alternate')?.attrs.href ?? '',
  }));
}
