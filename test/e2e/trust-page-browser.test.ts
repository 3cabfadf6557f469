/**
 * The sub-processor trust page the local stack serves, in a real headless browser (Debian's
 * chromium driven by playwright-core): it renders with its stylesheet, lists every sub-processor
 * in force, every link on it works, the feed it links is Atom 1.0 to the browser's own XML
 * parser too, and a screenshot is saved for a person to look at.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defaultRegistryDir, loadRegistry } from '../../functions/src/subprocessors/registry';
import { stack } from '../support/api';
import { ATOM_NS, atomProblems } from '../support/atom';

// Starting chromium and loading three documents on the loaded 2-core CI machine: a budget for
// the browser, not a latency claim.
jest.setTimeout(120_000);

/** Where the browser lives: Debian's package by default (.ci/run installs it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = path.resolve(__dirname, '..', '..', '.local', 'screenshots', 'trust-page.png');

const registry = loadRegistry(defaultRegistryDir());

// Page code is passed as source: the project's TypeScript has no DOM types (it runs on Node),
// so what runs in the page is typed only by what it returns.

let browser: Browser;
let page: Page;

beforeAll(async () => {
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser.close();
});

describe('the trust page in a browser', () => {
  it('renders with its stylesheet and lists every sub-processor in force today', async () => {
    const response = await page.goto(stack().trustPage);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Provenant sub-processors');
    expect(await page.locator('h1').textContent()).toBe('Sub-processors');

    const active = registry.activeOn(new Date());
    expect(active.length).toBeGreaterThan(0);
    expect(
      await page.evaluate<string[]>(
        '[...document.querySelectorAll(\'section[aria-labelledby="in-force"] tbody tr\')].map((r) => r.id)',
      ),
    ).toEqual(active.map((e) => `sp-${e.id}`));
    for (const e of active) {
      const row = page.locator(`#sp-${e.id}`);
      expect(await row.locator('th').textContent()).toBe(e.legalName);
      expect(await row.locator('td').first().textContent()).toBe(e.purpose);
      expect(await row.locator('td').nth(2).textContent()).toBe(e.locations.join(', '));
      expect(await row.isVisible()).toBe(true);
    }
    // style.css loaded and applied (the browser's default is `separate`).
    expect(
      await page.evaluate<string>(
        'getComputedStyle(document.querySelector("table")).borderCollapse',
      ),
    ).toBe('collapse');
  });

  it('has the structure assistive technology needs', async () => {
    await page.goto(stack().trustPage);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').count()).toBe(1);
    const tables = page.locator('table');
    for (let i = 0; i < (await tables.count()); i++) {
      expect(await tables.nth(i).locator('caption').count()).toBe(1);
      expect(
        await page.evaluate<string[]>(
          `[...document.querySelectorAll('table')[${String(i)}].querySelectorAll('thead th')].map((t) => t.getAttribute('scope'))`,
        ),
      ).toEqual(['col', 'col', 'col', 'col', 'col']);
    }
    // The first Tab lands on the skip link, which leads to the main content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.getAttribute("href")')).toBe(
      '#main',
    );
    expect(await page.locator('main#main').count()).toBe(1);
  });

  it('every link works: anchors exist, files answer 200 with their type', async () => {
    await page.goto(stack().trustPage);
    const hrefs = await page.evaluate<string[]>(
      "[...document.querySelectorAll('a[href], link[href]')].map((a) => a.href)",
    );
    expect(hrefs.length).toBeGreaterThanOrEqual(8);
    const types: Record<string, RegExp> = {
      'style.css': /^text\/css/,
      'feed.xml': /^application\/atom\+xml/,
      'subprocessors.json': /^application\/json/,
      'index.html': /^text\/html/,
    };
    for (const href of new Set(hrefs)) {
      const url = new URL(href);
      expect(url.origin).toBe(new URL(stack().trustPage).origin);
      if (url.hash) {
        const id = decodeURIComponent(url.hash.slice(1));
        expect(await page.locator(`[id="${id}"]`).count()).toBe(1);
        continue;
      }
      const reply = await page.request.get(href);
      expect({ href, status: reply.status() }).toEqual({ href, status: 200 });
      const name = url.pathname.split('/').pop() ?? '';
      expect(reply.headers()['content-type']).toMatch(types[name] ?? /^$/);
    }
  });

  it('the JSON link leads to the registry, the feed link to an Atom feed', async () => {
    await page.goto(stack().trustPage);
    await page.getByRole('link', { name: 'Registry as JSON' }).click();
    await page.waitForURL(/subprocessors\.json$/);
    const json = JSON.parse((await page.locator('body').textContent()) ?? '') as {
      subprocessors: { id: string; inForce: boolean }[];
    };
    expect(json.subprocessors.filter((s) => s.inForce).map((s) => s.id)).toEqual(
      registry.activeOn(new Date()).map((e) => e.id),
    );

    const feedUrl = new URL('feed.xml', stack().trustPage).href;
    const feed = await (await page.request.get(feedUrl)).text();
    expect(atomProblems(feed)).toEqual([]);
    // The browser's XML parser agrees: well-formed, the root in the Atom namespace.
    const parsed = await page.evaluate<{ error: number; ns: string; entries: number }>(`(() => {
      const doc = new DOMParser().parseFromString(${JSON.stringify(feed)}, 'application/xml');
      return {
        error: doc.getElementsByTagName('parsererror').length,
        ns: doc.documentElement.namespaceURI,
        entries: doc.getElementsByTagNameNS(${JSON.stringify(ATOM_NS)}, 'entry').length,
      };
    })()`);
    expect(parsed.error).toBe(0);
    expect(parsed.ns).toBe(ATOM_NS);
    expect(parsed.entries).toBeGreaterThan(0);
  });

  it('saves a screenshot of the page', async () => {
    await page.goto(stack().trustPage);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    // A blank page compresses to a few hundred bytes; a rendered one is many kilobytes.
    expect(png.length).toBeGreaterThan(20_000);
  });
});
