/**
 * The real photographs the moderation model is checked on. Nothing here is committed:
 *   - the repository's own: the EXIF-orientation photograph (one 1800x1200 picture stored in all
 *     18 orientation/flip variants) and events/samples/landscape.jpg (one of them, copied);
 *   - Debian's wallpaper packages, fetched once with `apt-get download` and unpacked under the
 *     git-ignored .cache: the 11 photographs among plasma-workspace-wallpapers' 30 pictures (the
 *     others are renders and illustrations), via scripts/bench/images/corpus.ts, and the 12
 *     photographs of mate-backgrounds' nature/ folder.
 * `listModerationPhotos` only looks at what is on disk (no network): tests use it.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BENCH_CACHE, fetchWallpapers, ROOT } from '../bench/images/corpus';
import { requireTools, run, TOOLS } from '../bench/images/tools';

export interface Photo {
  file: string;
  /** Short, stable name for tables (no machine paths). */
  label: string;
  group: 'repo' | 'plasma' | 'mate';
}

/** plasma-workspace-wallpapers pictures that are photographs (looked at one by one). */
export const PLASMA_PHOTOS = [
  'BytheWater',
  'ColdRipple',
  'ColorfulCups',
  'DarkestHour',
  'EveningGlow',
  'FallenLeaf',
  'Grey',
  'Kite',
  'OneStandsOut',
  'Path',
  'summer_1am',
] as const;

export const MATE_PACKAGE = 'mate-backgrounds';
export const MATE_DIR = path.join(ROOT, '.cache', 'moderation', 'mate');
const MATE_NATURE = path.join(MATE_DIR, 'usr/share/backgrounds/mate/nature');
const PLASMA_DIR = path.join(BENCH_CACHE, 'corpus', 'usr/share/wallpapers');
const EXIF_DIR = path.join(ROOT, 'test/fixtures/corpus/exif-orientation');

type Log = (line: string) => void;

/** Downloads and unpacks the two wallpaper packages if they are not there yet (network: apt-get download). */
export async function fetchModerationPhotos(log: Log): Promise<void> {
  await fetchWallpapers(log);
  if (existsSync(MATE_NATURE)) return;
  requireTools([TOOLS.aptGet, TOOLS.dpkgDeb]);
  const debs = path.join(ROOT, '.cache', 'moderation', 'debs');
  mkdirSync(debs, { recursive: true });
  const deb = () => readdirSync(debs).find((name) => name.startsWith(`${MATE_PACKAGE}_`) && name.endsWith('.deb'));
  if (!deb()) {
    log(`Downloading ${MATE_PACKAGE} (about 47 MB) ...`);
    const result = await run('apt-get', ['download', MATE_PACKAGE], { cwd: debs });
    if (!deb()) throw new Error(`apt-get download ${MATE_PACKAGE} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  const result = await run('dpkg-deb', ['-x', path.join(debs, deb()!), MATE_DIR]);
  if (result.code !== 0) throw new Error(`dpkg-deb -x failed: ${result.stderr.trim()}`);
}

const pixels = (name: string) => {
  const match = /^(\d+)x(\d+)\./.exec(name);
  return match ? Number(match[1]) * Number(match[2]) : 0;
};

/** The largest landscape rendition of a plasma wallpaper (files are named WIDTHxHEIGHT.ext). */
function plasmaFile(name: string): string | undefined {
  const dir = path.join(PLASMA_DIR, name, 'contents/images');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((file) => /^(\d+)x(\d+)\.(jpe?g|png)$/.test(file) && statSync(path.join(dir, file)).isFile())
    .filter((file) => {
      const [w, h] = file.split('.')[0].split('x').map(Number);
      return w >= h;
    })
    .sort((a, b) => pixels(b) - pixels(a) || (a < b ? -1 : 1));
  return files.length > 0 ? path.join(dir, files[0]) : undefined;
}

/** Every photograph on disk, in a fixed order; `repoOnly` skips the fetched packages. */
export function listModerationPhotos(options: { repoOnly?: boolean } = {}): Photo[] {
  const photos: Photo[] = readdirSync(EXIF_DIR)
    .filter((name) => name.endsWith('.jpg'))
    .sort()
    .map((name) => ({ file: path.join(EXIF_DIR, name), label: `exif-orientation/${name}`, group: 'repo' as const }));
  photos.push({ file: path.join(ROOT, 'events/samples/landscape.jpg'), label: 'events/samples/landscape.jpg', group: 'repo' });
  if (options.repoOnly) return photos;
  for (const name of PLASMA_PHOTOS) {
    const file = plasmaFile(name);
    if (file) photos.push({ file, label: `plasma/${name}/${path.basename(file)}`, group: 'plasma' });
  }
  if (existsSync(MATE_NATURE))
    for (const name of readdirSync(MATE_NATURE)
      .filter((file) => /\.jpe?g$/i.test(file))
      .sort())
      photos.push({ file: path.join(MATE_NATURE, name), label: `mate/nature/${name}`, group: 'mate' });
  return photos;
}

/** Distinct pictures: the 19 repository files are one photograph. */
export const distinctPhotographs = (photos: Photo[]) =>
  photos.filter((photo) => photo.group !== 'repo').length + (photos.some((photo) => photo.group === 'repo') ? 1 : 0);
