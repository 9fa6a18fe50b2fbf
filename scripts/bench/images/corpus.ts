import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { requireTools, run, TOOLS, type Tool } from './tools';

/**
 * The benchmark's images, all real pictures: Debian's wallpaper packages (fetched with
 * `apt-get download`, unpacked with `dpkg-deb -x`, kept under the git-ignored .cache/bench), the
 * team's EXIF-orientation photographs, and a 50-megapixel JPEG made by upscaling a wallpaper.
 * Nothing here is committed; every step is skipped when its result is already cached.
 */

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BENCH_CACHE = path.join(ROOT, '.cache', 'bench');
export const WALLPAPER_PACKAGES = ['plasma-workspace-wallpapers', 'gnome-backgrounds'] as const;
/** Every EXIF orientation, committed with the tests. */
export const EXIF_ORIENTATION_DIR = path.resolve(ROOT, 'test', 'fixtures', 'corpus', 'exif-orientation');

export type BenchFormat = 'jpeg' | 'png' | 'webp';
export type BenchGroup = 'wallpaper' | 'exif-orientation' | '50mp';

export interface BenchImage {
  file: string;
  /** Short, stable name for tables (no machine paths). */
  label: string;
  format: BenchFormat;
  width: number;
  height: number;
  bytes: number;
  progressive: boolean;
  group: BenchGroup;
}

/**
 * Which wallpapers qualify: photos of 2560x1600 to 5120x2880, read as a long edge from
 * 2560 to 5120 px and a short edge of at least 1600 px (the packages' WebP files are 4096x4096
 * squares, which this includes; the many small per-resolution copies are excluded).
 */
export const WALLPAPER_RANGE = { minLongEdge: 2560, maxLongEdge: 5120, minShortEdge: 1600 };
/** How many of each format the benchmark uses: bounded so a run takes minutes, spread across sizes. */
export const PER_FORMAT: Record<BenchFormat, number> = { jpeg: 5, png: 4, webp: 3 };
/** The memory target's input: at least 50 million pixels, 16:9 like the source wallpaper. */
export const FIFTY_MP = { width: 9429, height: 5304 };

type Log = (line: string) => void;

const UNPACKED_MARKER = path.join(BENCH_CACHE, 'corpus', '.unpacked');

/** The programs fetching the corpus still needs (none once it is unpacked), so a run can name everything missing at once. */
export function corpusTools(): Tool[] {
  return existsSync(UNPACKED_MARKER) ? [] : [TOOLS.aptGet, TOOLS.dpkgDeb];
}

/** Downloads and unpacks the wallpaper packages once; returns the folder they were unpacked into. */
export async function fetchWallpapers(log: Log): Promise<string> {
  const debsDir = path.join(BENCH_CACHE, 'debs');
  const corpusDir = path.join(BENCH_CACHE, 'corpus');
  if (existsSync(UNPACKED_MARKER)) return corpusDir;

  mkdirSync(debsDir, { recursive: true });
  const debFor = (pkg: string) => readdirSync(debsDir).find((name) => name.startsWith(`${pkg}_`) && name.endsWith('.deb'));
  const missing = WALLPAPER_PACKAGES.filter((pkg) => !debFor(pkg));
  requireTools(missing.length > 0 ? [TOOLS.aptGet, TOOLS.dpkgDeb] : [TOOLS.dpkgDeb]);
  if (missing.length > 0) {
    log(`Downloading ${missing.join(', ')} (about 130 MB) into .cache/bench/debs ...`);
    // apt-get download needs no root: it writes into the current folder.
    const result = await run('apt-get', ['download', ...missing], { cwd: debsDir });
    const stillMissing = WALLPAPER_PACKAGES.filter((pkg) => !debFor(pkg));
    if (result.code !== 0 || stillMissing.length > 0) {
      throw new Error(
        `apt-get download ${missing.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}\n` +
          'If the package lists are missing or stale, run `apt-get update` (as root) and try again.',
      );
    }
  }
  // Unpacked beside, then moved into place: an interrupted run leaves no half corpus behind.
  const staging = `${corpusDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const pkg of WALLPAPER_PACKAGES) {
    const deb = path.join(debsDir, debFor(pkg)!);
    const result = await run('dpkg-deb', ['-x', deb, staging]);
    if (result.code !== 0) throw new Error(`dpkg-deb -x ${path.basename(deb)} failed: ${result.stderr.trim()}`);
  }
  writeFileSync(path.join(staging, '.unpacked'), `${WALLPAPER_PACKAGES.map(debFor).join('\n')}\n`);
  rmSync(corpusDir, { recursive: true, force: true });
  renameSync(staging, corpusDir);
  return corpusDir;
}

/** Regular files only: the packages hold many symlinks to the same picture under other names. */
function regularFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...regularFiles(full));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

function wallpaperLabel(corpusDir: string, file: string): string {
  return path
    .relative(corpusDir, file)
    .split(path.sep)
    .join('/')
    .replace(/^usr\/share\/(wallpapers|backgrounds)\//, '')
    .replace('/contents/images_dark/', '-dark/')
    .replace('/contents/images/', '/');
}

async function describe(file: string, label: string, group: BenchGroup): Promise<BenchImage | undefined> {
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(file).metadata();
  } catch {
    return undefined;
  }
  const format = metadata.format === 'jpeg' || metadata.format === 'png' || metadata.format === 'webp' ? metadata.format : undefined;
  if (!format || !metadata.width || !metadata.height) return undefined;
  const { size } = metadata;
  return {
    file,
    label,
    format,
    width: metadata.width,
    height: metadata.height,
    bytes: size ?? readFileSync(file).length,
    progressive: metadata.isProgressive ?? false,
    group,
  };
}

/** `count` items spread evenly over a sorted list, always including its first and last. */
export function spread<T>(sorted: readonly T[], count: number): T[] {
  if (count >= sorted.length) return [...sorted];
  if (count <= 1) return sorted.slice(0, Math.max(0, count));
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (sorted.length - 1)) / (count - 1)));
  return [...picked].sort((a, b) => a - b).map((index) => sorted[index]);
}

export function inWallpaperRange(width: number, height: number): boolean {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  return long >= WALLPAPER_RANGE.minLongEdge && long <= WALLPAPER_RANGE.maxLongEdge && short >= WALLPAPER_RANGE.minShortEdge;
}

/**
 * A deterministic subset of the unpacked wallpapers: per format, the qualifying files (each picture
 * once, by content) sorted by pixel count then name, and PER_FORMAT of them picked evenly across
 * that order, so the smallest and the largest of each format are always in.
 */
export async function selectWallpapers(corpusDir: string, perFormat = PER_FORMAT): Promise<BenchImage[]> {
  const seen = new Set<string>();
  const candidates: BenchImage[] = [];
  for (const file of regularFiles(corpusDir).sort()) {
    if (!/\.(jpe?g|png|webp)$/i.test(file)) continue;
    const image = await describe(file, wallpaperLabel(corpusDir, file), 'wallpaper');
    if (!image || !inWallpaperRange(image.width, image.height)) continue;
    const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (seen.has(digest)) continue;
    seen.add(digest);
    candidates.push(image);
  }
  const order = (a: BenchImage, b: BenchImage) => a.width * a.height - b.width * b.height || (a.label < b.label ? -1 : 1);
  return (Object.keys(perFormat) as BenchFormat[]).flatMap((format) =>
    spread(candidates.filter((image) => image.format === format).sort(order), perFormat[format]),
  );
}

/** How many of the 18 EXIF-orientation photographs (one 1800x1200 picture in every orientation) are used. */
export const EXIF_ORIENTATION_COUNT = 6;

/**
 * A spread of the EXIF-orientation photographs (landscape and portrait, transposing orientations
 * included); empty when the folder is absent. They are the same picture 18 times, so all of them
 * would only weigh the per-image percentiles towards one 2 MP photo.
 */
export async function exifOrientationImages(dir = EXIF_ORIENTATION_DIR, count = EXIF_ORIENTATION_COUNT): Promise<BenchImage[]> {
  if (!existsSync(dir)) return [];
  const images: BenchImage[] = [];
  for (const name of readdirSync(dir)
    .filter((entry) => /\.jpe?g$/i.test(entry))
    .sort()) {
    const image = await describe(path.join(dir, name), `exif-orientation/${name}`, 'exif-orientation');
    if (image) images.push(image);
  }
  return spread(images, count);
}

/**
 * A 50-megapixel JPEG, made once by upscaling a wallpaper (Lanczos), baseline and 4:2:0 at quality
 * 90 like a camera's; with `progressive`, the same pixels as a progressive JPEG, the harder case
 * for memory (a progressive decode keeps every coefficient of the image until the last scan).
 */
export async function fiftyMegapixelJpeg(source: BenchImage, options: { progressive: boolean }, log: Log): Promise<BenchImage> {
  const dir = path.join(BENCH_CACHE, 'generated');
  const stem = source.label.replace(/\.[a-z]+$/i, '').replace(/[^A-Za-z0-9.-]+/g, '_');
  const name = `50mp-${options.progressive ? 'progressive' : 'baseline'}-${stem}.jpg`;
  const file = path.join(dir, name);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    log(`Generating ${name} (${FIFTY_MP.width}x${FIFTY_MP.height}) from ${source.label} ...`);
    const data = await sharp(source.file)
      .resize(FIFTY_MP.width, FIFTY_MP.height, { fit: 'fill', kernel: 'lanczos3' })
      .jpeg({ quality: 90, chromaSubsampling: '4:2:0', progressive: options.progressive, mozjpeg: false })
      .toBuffer();
    writeFileSync(`${file}.partial`, data);
    renameSync(`${file}.partial`, file);
  }
  const image = await describe(file, `generated/${name}`, '50mp');
  if (!image) throw new Error(`could not read back ${file}`);
  return image;
}

export interface Corpus {
  wallpapers: BenchImage[];
  exifOrientation: BenchImage[];
  fiftyMp: BenchImage;
  fiftyMpProgressive: BenchImage;
}

export async function ensureCorpus(log: Log): Promise<Corpus> {
  const corpusDir = await fetchWallpapers(log);
  const wallpapers = await selectWallpapers(corpusDir);
  if (wallpapers.length === 0)
    throw new Error(`no wallpaper in ${path.relative(ROOT, corpusDir)} qualifies; delete that folder to unpack it again`);
  const exifOrientation = await exifOrientationImages();
  if (exifOrientation.length === 0) log(`Note: ${EXIF_ORIENTATION_DIR} not found: running on the wallpapers only.`);
  // The most detailed of the largest JPEGs (most bytes), so the upscaled file is photo-like, not a smooth gradient.
  const jpegs = wallpapers.filter((image) => image.format === 'jpeg');
  const source = [...(jpegs.length > 0 ? jpegs : wallpapers)].sort(
    (a, b) => b.width * b.height - a.width * a.height || b.bytes - a.bytes,
  )[0];
  return {
    wallpapers,
    exifOrientation,
    fiftyMp: await fiftyMegapixelJpeg(source, { progressive: false }, log),
    fiftyMpProgressive: await fiftyMegapixelJpeg(source, { progressive: true }, log),
  };
}
