import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * The web console in headless Chromium (Debian's, never a downloaded one) against the whole local
 * stack: uploads followed to their outcome, the gallery before and after a reload, one image's
 * detail, a redrive from the failures view, a refused upload and an unreachable API explained.
 * Screenshots of each view at 1400 and 390 px go to .cache/console/ on every run.
 */

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, '.cache/console');
const file = (name: string, relative: string, mimeType: string) => ({ name, mimeType, buffer: readFileSync(path.join(ROOT, relative)) });
const PHOTOS = [
  file('console-landscape.jpg', 'events/samples/landscape.jpg', 'image/jpeg'),
  file('console-portrait.jpg', 'test/fixtures/corpus/exif-orientation/Portrait_3.jpg', 'image/jpeg'),
];
const BROKEN = file('console-broken.png', 'events/samples/corrupt.png', 'image/png');
const SETTLE_MS = 90_000;

jest.setTimeout(240_000);

let t: TestStack;

/** Messages on a queue: waiting, in flight or delayed. */
async function queued(queueUrl: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const { Attributes = {} } = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes[name] ?? 0), 0);
}
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestStack({ batchWindowSeconds: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

/** Every named card's thumbnail has loaded (an `<img>` with pixels). */
function thumbnailsLoaded(names: string[]) {
  return page.waitForFunction(
    (wanted) =>
      wanted.every((name) => {
        const card = [...document.querySelectorAll('.card')].find((candidate) => candidate.querySelector('.name')?.textContent === name);
        const img = card?.querySelector('img');
        return img?.complete === true && img.naturalWidth > 0;
      }),
    names,
    { timeout: SETTLE_MS },
  );
}

const upload = (name: string) => page.locator('li.upload', { hasText: name });

test('two photos and a broken file: progress, then complete with thumbnails, and failed with its reason explained', async () => {
  await page.goto(`${t.apiUrl}/`);
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
  await page.locator('input[type=file]').setInputFiles([...PHOTOS, BROKEN]);

  for (const photo of PHOTOS) await upload(photo.name).and(page.locator('[data-phase=complete]')).waitFor({ timeout: SETTLE_MS });
  const broken = upload(BROKEN.name).and(page.locator('[data-phase=failed]'));
  await broken.waitFor({ timeout: SETTLE_MS });
  const text = (await broken.textContent()) ?? '';
  expect(text).toMatch(/corrupt|not-an-image/);
  expect(text).toContain('What to do:');
  // The live region said what happened last.
  expect(await page.getByRole('status').first().textContent()).toMatch(/console-.*: (complete|failed)/);

  await thumbnailsLoaded(PHOTOS.map((photo) => photo.name));
  const srcset = await page.locator('.card', { hasText: PHOTOS[0].name }).locator('img').getAttribute('srcset');
  expect(srcset?.split(',').map((candidate) => candidate.trim().split(' ')[1])).toEqual(['256w', '512w', '1024w']);
  await shot('gallery-1400');
});

test('the gallery survives a reload: it reads the catalogue', async () => {
  await page.reload();
  await thumbnailsLoaded(PHOTOS.map((photo) => photo.name));
  await page.locator('.card', { hasText: BROKEN.name }).locator('.badge', { hasText: 'failed' }).waitFor();
  await page.getByLabel('Status').selectOption('failed');
  await page.locator('.card', { hasText: BROKEN.name }).waitFor();
  await page.locator('.card', { hasText: PHOTOS[0].name }).waitFor({ state: 'detached' });
  await page.getByLabel('Status').selectOption('');
  await thumbnailsLoaded([PHOTOS[0].name]);
});

test('the detail view: every thumbnail with its bytes, the labels, the verdict and the stages', async () => {
  await page.getByRole('link', { name: `${PHOTOS[0].name}: details` }).click();
  await page.getByRole('heading', { name: PHOTOS[0].name }).waitFor();
  const thumbnailRows = page.getByRole('table', { name: 'Thumbnails' }).locator('tbody tr');
  await thumbnailRows.first().waitFor();
  expect(await thumbnailRows.count()).toBeGreaterThanOrEqual(3);
  expect(await thumbnailRows.first().textContent()).toMatch(/^256\w+256×171[\d.]+ KB/);
  expect(await page.locator('meter').count()).toBeGreaterThan(0);
  expect(await page.getByText(/Verdict clean/).count()).toBe(1);
  expect(await page.getByRole('table', { name: 'Stages' }).textContent()).toMatch(/resize\s*complete/);
  await page.locator('.hero img').evaluate((img: HTMLImageElement) => img.decode());
  await shot('detail-1400');
});

test('the failures view: the DLQ rows explained, a redrive by reason after a dry run and a confirmation, the audit', async () => {
  await page.getByRole('link', { name: 'Failures' }).click();
  const redrive = page.getByRole('button', { name: /^Redrive (corrupt|not-an-image) from resize$/ });
  await redrive.waitFor({ timeout: SETTLE_MS });
  expect(await page.getByRole('table', { name: 'Dead-lettered messages' }).textContent()).toContain('samples/corrupt.png');
  await page.locator('.summary').waitFor();
  await shot('failures-1400');

  // Nothing still on its way to a DLQ (a redelivery under load adds an entry): the count the dry run
  // gives is then the count the redrive moves.
  await t.waitFor(async () => (await Promise.all([t.queueUrls.resize, t.queueUrls.predict].map(queued))).every((n) => n === 0), SETTLE_MS);
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.accept();
  });
  await redrive.click();
  const moved = page.locator('p.ok', { hasText: /^Moved \d+ message/ });
  await moved.waitFor();
  expect(asked[0]).toMatch(/^Move \d+ messages? with reason (corrupt|not-an-image) from the resize DLQ/);
  expect((await moved.textContent())?.match(/\d+/)?.[0]).toBe(asked[0].match(/\d+/)?.[0]);
});

test('readable at 390 px: no sideways scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${t.apiUrl}/#/`);
  await thumbnailsLoaded(PHOTOS.map((photo) => photo.name));
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot('gallery-390');
  await page.getByRole('link', { name: `${PHOTOS[1].name}: details` }).click();
  await page.getByRole('table', { name: 'Thumbnails' }).waitFor();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot('detail-390');
  await page.getByRole('link', { name: 'Failures' }).click();
  await page.locator('.summary').waitFor();
  await shot('failures-390');
  await page.setViewportSize({ width: 1400, height: 900 });
});

test('a refused upload and an unreachable API are explained in the page', async () => {
  await page.goto(`${t.apiUrl}/#/`);
  await page
    .locator('input[type=file]')
    .setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') }]);
  const refused = upload('notes.txt').and(page.locator('[data-phase=refused]'));
  await refused.waitFor();
  expect(await refused.getByRole('alert').textContent()).toMatch(/unsupported-content-type, 400/);

  await page.route('**/images?*', (route) => route.abort('connectionrefused'));
  await page.getByRole('button', { name: 'Refresh' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'The gallery could not be loaded' });
  await alert.waitFor();
  expect(await alert.textContent()).toContain('The API cannot be reached');
  await page.unroute('**/images?*');
});

test('no uncaught page error, and no console error but the expected refusals', () => {
  expect(pageErrors).toEqual([]);
  // 404: an upload the pipeline has not recorded yet; 400: the refused text file; the aborted listing.
  const unexpected = consoleErrors.filter((line) => !/status of (404|400)|net::ERR_CONNECTION_REFUSED|net::ERR_FAILED/.test(line));
  expect(unexpected).toEqual([]);
});
