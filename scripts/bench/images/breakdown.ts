/**
 * Where our image path spends its CPU, per group of the benchmark's images (notes/perf.md):
 *   UV_THREADPOOL_SIZE=1 VIPS_CONCURRENCY=1 npx tsx scripts/bench/images/breakdown.ts
 * The steps of renderThumbnails one by one (probe, decode to the largest size, each encode at the
 * configured WebP effort) against the naive pipeline, in process CPU time, best of 3 per image.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { loadConfig } from '../../../shared/config';
import { encodeAs } from '../../../shared/image/encode';
import { planSizes } from '../../../shared/image/plan';
import { probeImage } from '../../../shared/image/probe';
import { ensureCorpus } from './corpus';
import { runNaive } from './paths';

const STEPS = ['probe', 'decode', 'encode largest', 'encode middle', 'encode smallest', 'naive'] as const;

async function cpu<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(started);
  return [result, (used.user + used.system) / 1000];
}

async function main() {
  sharp.concurrency(1);
  const { thumbnails, limits } = loadConfig();
  const corpus = await ensureCorpus((line) => process.stderr.write(`${line}\n`));
  const groups = new Map<string, { totals: number[]; count: number }>();
  for (const image of [...corpus.wallpapers, ...corpus.exifOrientation]) {
    const group = image.group === 'exif-orientation' ? 'exif' : image.format;
    const input = readFileSync(image.file);
    const best = STEPS.map(() => Infinity);
    for (let attempt = 0; attempt < 3; attempt++) {
      const [source, probeMs] = await cpu(() => probeImage(input, limits));
      const [largest, ...smaller] = planSizes(source.width, source.height, thumbnails.sizes);
      const [base, decodeMs] = await cpu(() =>
        sharp(input, { failOn: 'warning', sequentialRead: true })
          .autoOrient()
          .resize(largest.width, largest.height, { fit: 'fill' })
          .toColourspace('srgb')
          .raw()
          .toBuffer({ resolveWithObject: true }),
      );
      const raw = () => sharp(base.data, { raw: base.info });
      const encodes = [];
      for (const planned of [largest, ...smaller]) {
        const pipeline = planned === largest ? raw() : raw().resize(planned.width, planned.height, { fit: 'fill' });
        encodes.push((await cpu(() => encodeAs(pipeline, thumbnails.format, thumbnails.quality).toBuffer()))[1]);
      }
      const [, naiveMs] = await cpu(() => runNaive(input, thumbnails.sizes, thumbnails.quality));
      [probeMs, decodeMs, ...encodes, naiveMs].forEach((ms, i) => (best[i] = Math.min(best[i], ms)));
    }
    const entry = groups.get(group) ?? { totals: STEPS.map(() => 0), count: 0 };
    best.forEach((ms, i) => (entry.totals[i] += ms));
    entry.count += 1;
    groups.set(group, entry);
  }
  console.log(`CPU ms per image, best of 3: ${STEPS.join(', ')} | ours | ours/naive`);
  for (const [group, { totals, count }] of groups) {
    const perImage = totals.map((total) => total / count);
    const ours = perImage.slice(0, 5).reduce((sum, ms) => sum + ms, 0);
    console.log(
      `${group.padEnd(6)}${perImage.map((ms) => ms.toFixed(1).padStart(8)).join('')} | ${ours.toFixed(1).padStart(7)} | ${(ours / perImage[5]).toFixed(2)}`,
    );
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
