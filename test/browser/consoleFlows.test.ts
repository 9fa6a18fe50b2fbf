import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import type { ImagePage } from '../../shared/api/types';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * The console's flows the first browser test does not cover, on a stack of its own whose
 * moderation policy flags every ordinary photo (`Neutral=0.01`): flagged images blurred and
 * badged with no clear thumbnail ever fetched, a flagged image that gets its thumbnails while
 * shown, a file dropped on the drop zone, "Load more" through the cursor, delete (a refusal shown,
 * then the card gone once the pipeline removed it), and the keyboard path through every view.
 */

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, '.cache/console');
const read = (relative: string) => readFileSync(path.join(ROOT, relative));
const jpeg = (name: string, relative: string) => ({ name, mimeType: 'image/jpeg', buffer: read(relative) });
const FLAGGED = jpeg('flow-flagged.jpg', 'events/samples/landscape.jpg');
const DROPPED = jpeg('flow-dropped.jpg', 'test/fixtures/corpus/exif-orientation/Portrait_3.jpg');
const KEYED = [
  jpeg('flow-keyboard-1.jpg', 'test/fixtures/corpus/exif-orientation/Landscape_1.jpg'),
  jpeg('flow-keyboard-2.jpg', 'test/fixtures/corpus/exif-orientation/Landscape_2.jpg'),
];
const BROKEN = { name: 'flow-broken.png', mimeType: 'image/png', buffer: read('events/samples/corrupt.png') };
const SETTLE_MS = 90_000;

jest.setTimeout(300_000);

let t: TestStack;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
/** Every image the page fetched from S3, with the moderation metadata of what it was served. */
const fetchedImages: { url: string; status: number; moderation: string | undefined }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestStack({ batchWindowSeconds: 0, env: { MODERATION_FLAG: 'Neutral=0.01' } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('response', (response) => {
    if (response.request().resourceType() === 'image' && !response.url().startsWith(t.apiUrl)) {
      fetchedImages.push({ url: response.url(), status: response.status(), moderation: response.headers()['x-amz-meta-moderation'] });
    }
  });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const upload = (name: string) => page.locator('li.upload', { hasText: name });
const card = (name: string) => page.locator('.card', { has: page.locator('.name', { hasText: name }) });
const settled = (name: string, phase: 'complete' | 'failed') =>
  upload(name)
    .and(page.locator(`[data-phase=${phase}]`))
    .waitFor({ timeout: SETTLE_MS });

/** The card's thumbnail has loaded (an `<img>` with pixels). */
const loaded = (img: Locator) =>
  img.evaluate((element: HTMLImageElement) => element.decode().then(() => element.naturalWidth), undefined, { timeout: SETTLE_MS });

async function listing(query = ''): Promise<ImagePage> {
  const response = await fetch(`${t.apiUrl}/images?limit=100${query}`);
  if (!response.ok) throw new Error(`GET /images: ${response.status}`);
  return (await response.json()) as ImagePage;
}

/** Presses `key` (at most `presses` times) until `until` has the focus, marking every element that took it. */
async function tabTo(until: Locator, presses: number, key: 'Tab' | 'Shift+Tab' = 'Tab') {
  for (let press = 0; press < presses; press++) {
    await page.keyboard.press(key);
    await page.evaluate(() => document.activeElement?.setAttribute('data-tabbed', ''));
    if (await until.evaluate((element) => element === document.activeElement)) return;
  }
  throw new Error(`${presses} presses of ${key} never reached ${until}`);
}
const tabbed = (locator: Locator) => locator.evaluate((element) => element.hasAttribute('data-tabbed'));

test('a flagged photo: blurred and badged in the gallery, its verdict and label in the detail view, never a clear thumbnail', async () => {
  await page.goto(`${t.apiUrl}/`);
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
  await page.getByLabel(/choose files/).setInputFiles([FLAGGED]);
  await settled(FLAGGED.name, 'complete');

  const flagged = card(FLAGGED.name);
  const img = flagged.locator('img');
  expect(await loaded(img)).toBeGreaterThan(0);
  expect(await img.evaluate((element) => getComputedStyle(element).filter)).toContain('blur');
  const badge = flagged.getByRole('img', { name: 'Flagged by Neutral' });
  await badge.waitFor();
  expect(await badge.isVisible()).toBe(true);
  expect(await badge.textContent()).toBe('Flagged');
  await flagged.getByRole('link', { name: `${FLAGGED.name}: details (flagged)` }).waitFor();
  await shot('gallery-flagged-1400');

  await flagged.getByRole('link').click();
  await page.getByRole('heading', { name: FLAGGED.name }).waitFor();
  await page.getByText('Verdict flagged: flagged by Neutral').waitFor();
  const hero = page.locator('.hero img');
  await loaded(hero);
  expect(await hero.evaluate((element) => getComputedStyle(element).filter)).toContain('blur');
  await page.locator('.hero').getByRole('img', { name: 'Flagged by Neutral' }).waitFor();
  await shot('detail-flagged-1400');

  expect(fetchedImages.length).toBeGreaterThan(0);
  // Every image served (200) was obscured; a 304 revalidation carries no metadata, a 404 (deleted) no image.
  expect(fetchedImages.filter((image) => image.status === 200 && image.moderation !== 'flagged')).toEqual([]);
  expect(fetchedImages.filter((image) => image.status === 200).length).toBeGreaterThan(0);
  expect(fetchedImages.filter((image) => ![200, 304, 404].includes(image.status))).toEqual([]);
});

test('a flagged image listed before its obscured thumbnails are stored gets them without a reload', async () => {
  // The listing answers as the API does between the verdict and the obscured thumbnails: flagged, none handed out.
  await page.route('**/images?*', async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as ImagePage;
    for (const item of body.items) if (item.moderation?.verdict === 'flagged') item.thumbnails = [];
    await route.fulfill({ response, json: body });
  });
  await page.goto(`${t.apiUrl}/#/`);
  const flagged = card(FLAGGED.name);
  await flagged.getByText('flagged: thumbnail being obscured').waitFor();
  await flagged.getByRole('img', { name: 'Flagged by Neutral' }).waitFor();
  // The card asks about the image again (GET /images/{key}, not rewritten) and shows what it is handed.
  expect(await loaded(flagged.locator('.frame img'))).toBeGreaterThan(0);
  expect(await flagged.locator('.frame img').evaluate((element) => getComputedStyle(element).filter)).toContain('blur');
  await page.unroute('**/images?*');
  // Every image served (200) was obscured; a 304 revalidation carries no metadata, a 404 (deleted) no image.
  expect(fetchedImages.filter((image) => image.status === 200 && image.moderation !== 'flagged')).toEqual([]);
  expect(fetchedImages.filter((image) => image.status === 200).length).toBeGreaterThan(0);
  expect(fetchedImages.filter((image) => ![200, 304, 404].includes(image.status))).toEqual([]);
});

test('a file dropped on the drop zone is uploaded like a picked one', async () => {
  await page.goto(`${t.apiUrl}/#/`);
  const dataTransfer = await page.evaluateHandle(
    ({ base64, name, type }) => {
      const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type }));
      return transfer;
    },
    { base64: DROPPED.buffer.toString('base64'), name: DROPPED.name, type: DROPPED.mimeType },
  );
  const zone = page.locator('.dropzone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await settled(DROPPED.name, 'complete');
  expect(await loaded(card(DROPPED.name).locator('img'))).toBeGreaterThan(0);
  const [record] = (await listing()).items.filter((item) => item.key.endsWith(`/${DROPPED.name}`));
  expect(record.source.size).toBe(DROPPED.buffer.length);
  expect(record.source.width).toBeGreaterThan(0);
});

test('by keyboard: the file input, the filters, the cards, the failures view and its redrive buttons, each named', async () => {
  await page.goto(`${t.apiUrl}/#/`);
  await card(FLAGGED.name).waitFor();
  const live = page.locator('[aria-live]');
  expect(await live.count()).toBe(1);
  expect(await live.getAttribute('aria-live')).toBe('polite');
  expect(await live.getAttribute('role')).toBe('status');

  const input = page.getByLabel(/Drop images here, or choose files/);
  await tabTo(input, 10);
  const chooser = page.waitForEvent('filechooser');
  await page.keyboard.press('Space');
  await (await chooser).setFiles([...KEYED, BROKEN]);
  for (const photo of KEYED) await settled(photo.name, 'complete');
  await settled(BROKEN.name, 'failed');
  expect(await live.textContent()).toMatch(/^flow-.*: (complete|failed)$/);

  const status = page.getByRole('combobox', { name: 'Status' });
  const verdict = page.getByRole('combobox', { name: 'Verdict' });
  const refresh = page.getByRole('button', { name: 'Refresh' });
  const link = page.getByRole('link', { name: `${KEYED[0].name}: details (flagged)` });
  await link.waitFor();
  await tabTo(link, 40);
  for (const control of [input, status, verdict, refresh]) expect(await tabbed(control)).toBe(true);

  // A filter chosen from the keyboard.
  await status.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  expect(await status.inputValue()).toBe('failed');
  await card(FLAGGED.name).waitFor({ state: 'detached' });
  await card(BROKEN.name).waitFor();
  await status.selectOption('');

  // The failures view, reached and driven from the keyboard.
  const failures = page.getByRole('link', { name: 'Failures' });
  await tabTo(failures, 20, 'Shift+Tab');
  await page.keyboard.press('Enter');
  const redrive = page.getByRole('button', { name: /^Redrive (corrupt|not-an-image) from resize$/ });
  await redrive.waitFor({ timeout: SETTLE_MS });
  await tabTo(redrive, 20);
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await page.keyboard.press('Enter');
  await t.waitFor(() => asked.length > 0, 10_000, 'the redrive confirmation');
  expect(asked[0]).toMatch(/^Move \d+ messages? with reason (corrupt|not-an-image) from the resize DLQ/);
  await redrive.waitFor();
});

test('"Load more" follows the cursor: every image once, newest first, then no button', async () => {
  let last = '';
  const all = await t
    .waitFor(async () => {
      const found = await listing();
      last = found.items.map((item) => `${item.key}: ${item.status}`).join(', ');
      return found.items.length >= 5 && found.items.every((item) => item.status !== 'pending') ? found : undefined;
    }, SETTLE_MS)
    .catch((error: Error) => {
      throw new Error(`${error.message}; last listed: ${last}`);
    });
  const keys = all.items.map((item) => item.key);
  // Newest first: by upload time (the catalogue's byUpload index).
  const uploaded = all.items.map((item) => item.source.uploadedAt);
  expect([...uploaded].sort().reverse()).toEqual(uploaded);
  // The stack's seeded samples are listed too: more than two pages of 3.
  expect(keys.length).toBeGreaterThan(6);
  expect(new Set(keys).size).toBe(keys.length);

  await page.goto(`${t.apiUrl}/?pageSize=3#/`);
  const cards = page.locator('.gallery .card');
  const more = page.getByRole('button', { name: 'Load more' });
  await more.waitFor();
  expect(await cards.count()).toBe(3);
  for (let shown = 3; shown < keys.length; shown = Math.min(shown + 3, keys.length)) {
    await more.click();
    await cards.nth(Math.min(shown + 3, keys.length) - 1).waitFor();
  }
  await more.waitFor({ state: 'detached' });
  const titles = await cards.locator('.name').evaluateAll((elements) => elements.map((element) => element.getAttribute('title')));
  expect(titles).toEqual(keys);
});

test('delete from the detail view: a refusal is shown, then back to the gallery and the card gone once the API answers 404', async () => {
  await page.goto(`${t.apiUrl}/#/`);
  await card(DROPPED.name).getByRole('link').click();
  await page.getByRole('heading', { name: DROPPED.name }).waitFor();
  const key = (await page.locator('.key').first().textContent()) ?? '';
  expect(key).toMatch(new RegExp(`/${DROPPED.name}$`));
  const remove = page.getByRole('button', { name: `Delete ${DROPPED.name}` });
  const asked: string[] = [];
  page.on('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.accept();
  });

  await page.route('**/images/*', (route) =>
    route.request().method() === 'DELETE'
      ? route.fulfill({ status: 503, json: { error: 'unavailable', message: 'The catalogue is unavailable' } })
      : route.fallback(),
  );
  await remove.click();
  const refusal = page.getByRole('alert').filter({ hasText: 'could not be loaded or deleted' });
  await refusal.waitFor();
  expect(await refusal.textContent()).toContain('The catalogue is unavailable (unavailable, 503)');
  await page.unroute('**/images/*');
  expect(await fetch(`${t.apiUrl}/images/${encodeURIComponent(key)}`).then((response) => response.status)).toBe(200);

  await remove.click();
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
  expect(new URL(page.url()).hash).toBe('#/');
  expect(asked).toHaveLength(2);
  expect(asked[1]).toMatch(new RegExp(`^Delete ${DROPPED.name}\\?`));
  // Once the gallery has loaded, the deleted card is listed as being deleted until the pipeline removed it.
  await card(FLAGGED.name).waitFor();
  await card(DROPPED.name).waitFor({ state: 'detached', timeout: SETTLE_MS });
  expect(await fetch(`${t.apiUrl}/images/${encodeURIComponent(key)}`).then((response) => response.status)).toBe(404);
  page.removeAllListeners('dialog');
});

test('never a clear thumbnail fetched, no uncaught page error, no console error but the expected ones', () => {
  // Every image served (200) was obscured; a 304 revalidation carries no metadata, a 404 (deleted) no image.
  expect(fetchedImages.filter((image) => image.status === 200 && image.moderation !== 'flagged')).toEqual([]);
  expect(fetchedImages.filter((image) => image.status === 200).length).toBeGreaterThan(0);
  expect(fetchedImages.filter((image) => ![200, 304, 404].includes(image.status))).toEqual([]);
  expect(pageErrors).toEqual([]);
  // 404: an upload the pipeline has not recorded yet, or one deleted; 503: the refused delete.
  const unexpected = consoleErrors.filter((line) => !/status of (404|503)/.test(line));
  expect(unexpected).toEqual([]);
});
