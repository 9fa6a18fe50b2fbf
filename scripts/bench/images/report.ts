import { PATH_NAMES } from './paths';
import { GROUPS, type ImageBenchResult, TARGETS, type ThreadingFigures } from './run';
import type { Threading } from './worker';

/** The human-readable report of an image benchmark: one table per threading mode, the ratios, the 50 MP runs. */

const pad = (value: string | number, width: number, left = false) => (left ? String(value).padEnd(width) : String(value).padStart(width));
const verdict = (value: number | null, met: boolean) => (value === null ? 'not measured' : met ? 'met' : 'MISSED');

export const THREADING_TITLES: Record<Threading, string> = {
  single: 'Single-threaded',
  default: 'Default threading',
};

function settingsLine(figures: ThreadingFigures): string {
  const { UV_THREADPOOL_SIZE, VIPS_CONCURRENCY, sharp_concurrency } = figures.settings;
  return `UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE}, VIPS_CONCURRENCY=${VIPS_CONCURRENCY}, sharp.concurrency()=${sharp_concurrency}`;
}

export function threadingTable(threading: Threading, figures: ThreadingFigures): string[] {
  const lines = [
    `${THREADING_TITLES[threading]} (${settingsLine(figures)})`,
    `  ${pad('path', 14, true)}${pad('images/s', 9)}${pad('p50 ms', 9)}${pad('p95 ms', 9)}${pad('mean ms', 9)}${pad('CPU ms', 8)}${pad('peak RSS MB', 13)}${pad('out KB/img', 12)}`,
  ];
  for (const name of PATH_NAMES) {
    const p = figures.paths[name];
    lines.push(
      `  ${pad(name, 14, true)}${pad(p.images_per_s.toFixed(2), 9)}${pad(p.ms_p50, 9)}${pad(p.ms_p95, 9)}${pad(p.ms_mean.toFixed(0), 9)}${pad(p.cpu_ms_mean === null ? '-' : p.cpu_ms_mean.toFixed(0), 8)}${pad(p.peak_rss_mb, 13)}${pad(p.output_kb_per_image.toFixed(0), 12)}`,
    );
  }
  const vs = figures.ratio_vs_vipsthumbnail;
  const naive = figures.ratio_vs_naive;
  lines.push(
    `  ours/vipsthumbnail ${vs.toFixed(2)} (target <= ${TARGETS.ratio_vs_vipsthumbnail}: ${verdict(vs, vs <= TARGETS.ratio_vs_vipsthumbnail)}; rounds ${figures.ratio_vs_vipsthumbnail_per_round.join(', ')})`,
    `  ours/naive         ${naive.toFixed(2)} (target <= ${TARGETS.ratio_vs_naive}: ${verdict(naive, naive <= TARGETS.ratio_vs_naive)}; rounds ${figures.ratio_vs_naive_per_round.join(', ')}; in CPU time ${figures.ratio_vs_naive_cpu.toFixed(2)})`,
    `  vipsthumbnail start-up ${figures.vipsthumbnail_startup_ms} ms per process (3 per image); ours/vipsthumbnail without it: ${figures.ratio_vs_vipsthumbnail_without_startup.toFixed(2)}`,
    `  by group        ${GROUPS.filter((g) => figures.by_group[g])
      .map(
        (g) =>
          `${g} (${figures.by_group[g].images}): ${figures.by_group[g].ratio_vs_vipsthumbnail.toFixed(2)} vs vips, ${figures.by_group[g].ratio_vs_naive.toFixed(2)} vs naive`,
      )
      .join('; ')}`,
  );
  return lines;
}

export function imageReport(result: ImageBenchResult): string {
  const { settings, machine } = result;
  const wallpapers = result.corpus.filter((image) => !image.label.startsWith('exif-orientation/'));
  const count = (format: string) => wallpapers.filter((image) => image.format === format).length;
  const lines = [
    `Thumbnails ${settings.sizes.join('/')} px, WebP q${settings.quality}: ${settings.images} images (${wallpapers.length} Debian wallpapers: ${count('jpeg')} JPEG, ${count('png')} PNG, ${count('webp')} WebP; ${settings.images - wallpapers.length} EXIF-orientation photos), ${settings.rounds} round(s)`,
    `Machine: ${machine.cpus} x ${machine.cpu_model}, Node ${machine.node}, sharp ${machine.sharp} (libvips ${machine.sharp_libvips}), vipsthumbnail ${machine.vipsthumbnail}`,
    "ms = wall time of one image, all three sizes; CPU ms = CPU of the path's process (all threads; vipsthumbnail's is in its children, not measured);",
    'peak RSS = of the whole process (Node + sharp for ours/naive, the C program for vipsthumbnail)',
    '',
  ];
  for (const threading of settings.threadings) {
    const figures = result.threading[threading];
    if (figures) lines.push(...threadingTable(threading, figures), '');
  }
  if (result.fifty_mp.length > 0) {
    lines.push('50-megapixel JPEG (one image, all three sizes; each run a fresh process)');
    lines.push(`  ${pad('file', 44, true)}${pad('threading', 10, true)}${PATH_NAMES.map((name) => pad(`${name} ms / MB`, 24)).join('')}`);
    for (const figures of result.fifty_mp) {
      for (const threading of settings.threadings) {
        const runs = figures.runs[threading];
        if (!runs) continue;
        lines.push(
          `  ${pad(`${figures.width}x${figures.height} ${figures.progressive ? 'progressive' : 'baseline'} (${(figures.bytes / 1e6).toFixed(1)} MB)`, 44, true)}${pad(threading, 10, true)}${PATH_NAMES.map((name) => pad(`${runs[name].ms} / ${runs[name].peak_rss_mb}`, 24)).join('')}`,
        );
      }
    }
    const peak = result.peak_rss_mb_50mp;
    lines.push(
      `  peak RSS of ours at 50 MP: ${peak} MB (target < ${TARGETS.peak_rss_mb_50mp}: ${verdict(peak, peak !== null && peak < TARGETS.peak_rss_mb_50mp)}); progressive: ${result.peak_rss_mb_50mp_progressive} MB`,
      '',
    );
  }
  return lines.join('\n');
}
