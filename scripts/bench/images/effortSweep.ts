/**
 * The WebP effort trade-off on the benchmark's images (notes/perf.md):
 *   npx tsx scripts/bench/images/effortSweep.ts
 * For each effort, every image's three sizes are encoded from the same raw pixels (the largest size
 * decoded once, as ours does, the smaller resized from it); prints encoder CPU time (second of two
 * passes), total bytes, and mean PSNR of the decoded output against the raw pixels it encoded.
 * Run it single-threaded (UV_THREADPOOL_SIZE=1 VIPS_CONCURRENCY=1) for figures comparable to the notes.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ensureCorpus } from './corpus';

const EFFORTS = [4, 3, 2, 1, 0];
const SIZES = [1024, 512, 256];

function psnr(a: Buffer, b: Buffer): number {
  let squares = 0;
  for (let i = 0; i < a.length; i++) squares += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (squares / a.length));
}

async function main() {
  sharp.concurrency(1);
  const corpus = await ensureCorpus((line) => process.stderr.write(`${line}\n`));
  const totals = new Map(EFFORTS.map((effort) => [effort, { cpuMs: 0, bytes: 0, psnr: 0, count: 0 }]));
  for (const image of [...corpus.wallpapers, ...corpus.exifOrientation]) {
    const input = readFileSync(image.file);
    const metadata = await sharp(input).metadata();
    const { width = 0, height = 0 } = metadata.autoOrient ?? metadata;
    const scale = SIZES[0] / Math.max(width, height);
    const base = await sharp(input)
      .autoOrient()
      .resize(Math.round(width * scale), Math.round(height * scale), { fit: 'fill' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { channels } = base.info;
    const references = await Promise.all(
      SIZES.map(async (size) => {
        const s = size / Math.max(base.info.width, base.info.height);
        const w = Math.round(base.info.width * s);
        const h = Math.round(base.info.height * s);
        const data =
          size === SIZES[0] ? base.data : await sharp(base.data, { raw: base.info }).resize(w, h, { fit: 'fill' }).raw().toBuffer();
        return { data, w, h };
      }),
    );
    for (const effort of EFFORTS) {
      const total = totals.get(effort)!;
      for (let pass = 0; pass < 2; pass++) {
        for (const reference of references) {
          const cpu = process.cpuUsage();
          const encoded = await sharp(reference.data, { raw: { width: reference.w, height: reference.h, channels } })
            .webp({ quality: 80, effort })
            .toBuffer();
          const used = process.cpuUsage(cpu);
          if (pass === 0) continue; // the first pass warms the encoder
          total.cpuMs += (used.user + used.system) / 1000;
          total.bytes += encoded.length;
          total.psnr += psnr(await sharp(encoded).removeAlpha().raw().toBuffer(), reference.data);
          total.count += 1;
        }
      }
    }
  }
  for (const [effort, total] of totals) {
    console.log(
      `effort ${effort}: encoder CPU ${total.cpuMs.toFixed(0)} ms, ${(total.bytes / 1024).toFixed(0)} KB, mean PSNR ${(total.psnr / total.count).toFixed(2)} dB`,
    );
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
