import { buildConsoleAssets } from '../../local/console';

/** The console bundle the local server serves: built in memory, self-contained, no network. */

test('the page, the script and the styles, each with its content type', async () => {
  const assets = await buildConsoleAssets();
  expect([...assets.keys()].sort()).toEqual(['/', '/app.css', '/app.js']);
  expect(assets.get('/')?.contentType).toMatch(/^text\/html/);
  expect(assets.get('/app.js')?.contentType).toMatch(/^text\/javascript/);
  expect(assets.get('/app.css')?.contentType).toMatch(/^text\/css/);
  const html = assets.get('/')?.body.toString('utf8') ?? '';
  expect(html).toContain('src="/app.js"');
  expect(html).toContain('href="/app.css"');
});

test('the script is one bundle: it imports nothing at run time (no CDN)', async () => {
  const script = (await buildConsoleAssets()).get('/app.js')?.body.toString('utf8') ?? '';
  // One bundle: no static or dynamic import left for the browser to fetch.
  expect(script).not.toMatch(/(^|[;}])\s*import\s*[{*"'\w]/m);
  expect(script).not.toMatch(/\bimport\s*\(/);
});
