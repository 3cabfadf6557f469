/**
 * The public trust page of the sub-processor registry (`provenant subprocessors build`): a
 * static, accessible HTML page with its CSS, the registry as `subprocessors.json` and an Atom
 * 1.0 feed (RFC 4287) of every change, built from the registry and its git history. Pure: the
 * same registry, history and day always give the same bytes.
 */
import type { SubprocessorChange } from './diff';
import type { ChangelogEntry } from './git';
import { inForceOn, upcomingOn, type Subprocessor, type SubprocessorRegistry } from './registry';

export interface TrustPageInput {
  registry: SubprocessorRegistry;
  changelog: readonly ChangelogEntry[];
  /** The day the page is built for (UTC), `YYYY-MM-DD`. */
  today: string;
  noticeDays: number;
  /** Where the page is published; absolute links in the feed when given. */
  baseUrl?: string | undefined;
}

export const TRUST_PAGE_FILES = ['index.html', 'style.css', 'subprocessors.json', 'feed.xml'];

/** Feed and entry ids: permanent whatever address the page is published at (RFC 4287 4.2.6). */
const FEED_ID = 'urn:provenant:subprocessors';

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** RFC 3339 in UTC, whole seconds (git's `%cI` carries the committer's offset). */
function rfc3339(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function anchorOf(commit: string, id: string): string {
  return `change-${commit.slice(0, 12)}-${id}`;
}

function describeChange(change: SubprocessorChange): string {
  const e = change.after ?? change.before;
  const name = e?.legalName ?? change.id;
  switch (change.kind) {
    case 'added':
      return `${name} added (${change.after?.status ?? ''}, effective ${change.after?.effective ?? ''})`;
    case 'removed':
      return `${name} removed from the registry`;
    case 'changed':
      return `${name}: ${change.fields.join(', ')} changed${
        change.fields.includes('status') || change.fields.includes('effective')
          ? ` (now ${change.after?.status ?? ''}, effective ${change.after?.effective ?? ''})`
          : ''
      }`;
  }
}

function reasonOf(change: SubprocessorChange): string {
  return change.after?.reason ?? change.before?.reason ?? '';
}

const html = (strings: TemplateStringsArray, ...values: string[]) =>
  strings.reduce((out, s, i) => out + s + (values[i] ?? ''), '');

function time(day: string): string {
  return `<time datetime="${escapeXml(day)}">${escapeXml(day)}</time>`;
}

function entryRow(e: Subprocessor, dateColumn: string): string {
  return html` <tr id="sp-${escapeXml(e.id)}">
    <th scope="row">${escapeXml(e.legalName)}</th>
    <td>${escapeXml(e.purpose)}</td>
    <td>${escapeXml(e.dataCategories.join('; '))}</td>
    <td>${escapeXml(e.locations.join(', '))}</td>
    <td>${dateColumn}</td>
  </tr>`;
}

function table(caption: string, dateHeader: string, rows: string[], empty: string): string {
  if (rows.length === 0) return `<p>${escapeXml(empty)}</p>`;
  return html` <table>
    <caption>
      ${escapeXml(caption)}
    </caption>
    <thead>
      <tr>
        <th scope="col">Sub-processor</th>
        <th scope="col">Purpose</th>
        <th scope="col">Data</th>
        <th scope="col">Locations</th>
        <th scope="col">${escapeXml(dateHeader)}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.join('')}
    </tbody>
  </table>`;
}

function indexHtml({ registry, changelog, today, noticeDays }: TrustPageInput): string {
  const inForce = registry.entries.filter((e) => inForceOn(e, today));
  const upcoming = registry.entries.filter((e) => upcomingOn(e, today));
  const current = inForce.map((e) =>
    entryRow(
      e,
      e.status === 'retiring'
        ? `since ${time(e.announced)}; ends ${time(e.effective)}`
        : `since ${time(e.effective)}`,
    ),
  );
  const next = upcoming.map((e) =>
    entryRow(e, `announced ${time(e.announced)}; effective ${time(e.effective)}`),
  );
  const history = changelog
    .map(
      (c) =>
        html` <li>
          ${time(c.date.slice(0, 10))}
          <ul>
            ${c.changes
              .map(
                (ch) =>
                  html` <li id="${anchorOf(c.commit, ch.id)}">
                    ${escapeXml(describeChange(ch))}.
                    <span class="reason">Reason: ${escapeXml(reasonOf(ch))}</span>
                  </li>`,
              )
              .join('')}
          </ul>
        </li>`,
    )
    .join('');
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Provenant sub-processors</title>
        <link rel="stylesheet" href="style.css" />
        <link
          rel="alternate"
          type="application/atom+xml"
          title="Sub-processor changes"
          href="feed.xml"
        />
      </head>
      <body>
        <a class="skip" href="#main">Skip to the list of sub-processors</a>
        <header>
          <h1>Sub-processors</h1>
          <p>
            The third parties that may process customer data for Provenant, as of ${time(today)}. A
            new sub-processor or a change is announced at least ${String(noticeDays)} days before it
            takes effect.
          </p>
          <nav aria-label="This page and its feeds">
            <ul>
              <li><a href="#in-force">In force</a></li>
              <li><a href="#upcoming">Upcoming</a></li>
              <li><a href="#changelog">Changelog</a></li>
              <li><a href="feed.xml" type="application/atom+xml">Atom feed of changes</a></li>
              <li><a href="subprocessors.json" type="application/json">Registry as JSON</a></li>
            </ul>
          </nav>
        </header>
        <main id="main">
          <section aria-labelledby="in-force">
            <h2 id="in-force">In force</h2>
            ${table('Sub-processors in force', 'Dates', current, 'None.')}
          </section>
          <section aria-labelledby="upcoming">
            <h2 id="upcoming">Upcoming</h2>
            ${table('Announced sub-processors not yet in force', 'Dates', next, 'No change is announced.')}
          </section>
          <section aria-labelledby="changelog">
            <h2 id="changelog">Changelog</h2>
            ${history ? `<ol class="changelog">${history}\n        </ol>` : '<p>No change recorded yet.</p>'}
          </section>
        </main>
      </body>
    </html> `;
}

/** High-contrast (WCAG AA) colours, visible focus, readable on a phone. */
const STYLE_CSS = `:root {
  color-scheme: light;
  --text: #1a1a1a;
  --muted: #4a4a4a;
  --accent: #0b4f9c;
  --rule: #c8c8c8;
  --band: #f3f5f8;
}
body {
  margin: 0 auto;
  max-width: 72rem;
  padding: 1rem 1.25rem 3rem;
  font: 1rem/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  color: var(--text);
  background: #fff;
}
a {
  color: var(--accent);
}
a:focus-visible {
  outline: 3px solid var(--accent);
  outline-offset: 2px;
}
.skip {
  position: absolute;
  left: -999rem;
}
.skip:focus {
  position: static;
}
nav ul {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem 1.5rem;
  padding: 0;
  list-style: none;
}
table {
  width: 100%;
  border-collapse: collapse;
  margin: 0.5rem 0 1.5rem;
}
caption {
  text-align: left;
  color: var(--muted);
  padding-bottom: 0.25rem;
}
th,
td {
  text-align: left;
  vertical-align: top;
  padding: 0.5rem 0.75rem;
  border-bottom: 1px solid var(--rule);
}
thead th {
  background: var(--band);
}
.changelog .reason {
  color: var(--muted);
}
@media (max-width: 40rem) {
  table,
  thead,
  tbody,
  tr,
  th,
  td {
    display: block;
  }
  thead {
    position: absolute;
    left: -999rem;
  }
}
`;

function feedXml({ changelog, registry, baseUrl, today }: TrustPageInput): string {
  const link = (path: string) => escapeXml(baseUrl ? new URL(path, baseUrl).href : path);
  const entries = changelog.flatMap((c) =>
    c.changes.map((ch) => {
      const e = ch.after ?? ch.before;
      const summary = [
        describeChange(ch),
        `Reason: ${reasonOf(ch)}`,
        e ? `Purpose: ${e.purpose}` : '',
        e ? `Locations: ${e.locations.join(', ')}` : '',
        e ? `Announced ${e.announced}, effective ${e.effective}.` : '',
      ]
        .filter((s) => s !== '')
        .join('\n');
      return [
        '  <entry>',
        `    <id>${FEED_ID}:change:${c.commit}:${escapeXml(ch.id)}</id>`,
        `    <title type="text">${escapeXml(describeChange(ch))}</title>`,
        `    <updated>${rfc3339(c.date)}</updated>`,
        `    <link rel="alternate" type="text/html" href="${link(`index.html#${anchorOf(c.commit, ch.id)}`)}"/>`,
        `    <category term="${ch.kind}"/>`,
        `    <summary type="text">${escapeXml(summary)}</summary>`,
        '  </entry>',
      ].join('\n');
    }),
  );
  // A feed's updated is its newest change; with none yet, the day the registry describes.
  const newest = changelog[0]?.date;
  const updated = newest ? rfc3339(newest) : `${today}T00:00:00Z`;
  const subtitle = `${String(registry.entries.length)} registered sub-processor(s); every addition, change and retirement`;
  // Built line by line, not as an html`` template, which the formatter would reflow.
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `  <id>${FEED_ID}</id>`,
    '  <title type="text">Provenant sub-processor changes</title>',
    `  <subtitle type="text">${escapeXml(subtitle)}</subtitle>`,
    `  <updated>${updated}</updated>`,
    '  <author><name>Provenant</name></author>',
    `  <link rel="self" type="application/atom+xml" href="${link('feed.xml')}"/>`,
    `  <link rel="alternate" type="text/html" href="${link('index.html')}"/>`,
    '  <generator>provenant subprocessors build</generator>',
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}

function registryJson({ registry, changelog, today, noticeDays }: TrustPageInput): string {
  return `${JSON.stringify(
    {
      asOf: today,
      noticeDays,
      subprocessors: registry.entries.map((e) => ({
        ...e,
        inForce: inForceOn(e, today),
        upcoming: upcomingOn(e, today),
      })),
      changelog: changelog.map((c) => ({
        commit: c.commit,
        date: c.date,
        subject: c.subject,
        changes: c.changes.map(({ id, kind, fields }) => ({ id, kind, fields })),
      })),
    },
    null,
    2,
  )}\n`;
}

/** Every file of the trust page, by name. */
export function buildTrustPage(input: TrustPageInput): Record<string, string> {
  return {
    'index.html': indexHtml(input),
    'style.css': STYLE_CSS,
    'subprocessors.json': registryJson(input),
    'feed.xml': feedXml(input),
  };
}
