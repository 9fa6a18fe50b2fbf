import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import type { StaticAsset } from './httpApi';

/**
 * The web console (console/) bundled in memory for the local HTTP API to serve: `/` is the page,
 * `/app.js` the Preact app with everything it imports, `/app.css` its styles. Nothing is written
 * to disk and nothing is fetched from the network.
 */

const CONSOLE_DIR = path.resolve(__dirname, '../console');
/** The browser code's layer rule (.dependency-cruiser.cjs cannot parse its JSX): console/, shared/ and preact only. */
const BUNDLE_MAY_HOLD = /^(console|shared)\/|(^|\/)node_modules\/preact\//;

export async function buildConsoleAssets(): Promise<Map<string, StaticAsset>> {
  const result = await build({
    entryPoints: [
      { in: path.join(CONSOLE_DIR, 'main.tsx'), out: 'app' },
      { in: path.join(CONSOLE_DIR, 'styles.css'), out: 'app' },
    ],
    bundle: true,
    write: false,
    outdir: CONSOLE_DIR,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: path.join(CONSOLE_DIR, 'tsconfig.json'),
    metafile: true,
    absWorkingDir: path.resolve(CONSOLE_DIR, '..'),
  });
  const strays = Object.keys(result.metafile.inputs).filter((input) => !BUNDLE_MAY_HOLD.test(input));
  if (strays.length > 0) throw new Error(`the console may bundle console/, shared/ and preact only, not ${strays.join(', ')}`);
  const assets = new Map<string, StaticAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(`/${name}`, { contentType, body: Buffer.from(file.contents) });
  }
  assets.set('/', { contentType: 'text/html; charset=utf-8', body: await readFile(path.join(CONSOLE_DIR, 'index.html')) });
  return assets;
}
