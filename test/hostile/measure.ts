import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../shared/config';
import { PermanentError } from '../../shared/errors';
import { renderThumbnails } from '../../shared/image/thumbnails';
import { writeHostileFiles } from './generate';

/**
 * Time and peak memory of the resize path (renderThumbnails with the configured sizes and limits)
 * for each hostile file, each in a fresh process so one file's peak is not hidden by another's:
 *
 *   npx tsx test/hostile/measure.ts [--heavy] [--pngsuite] [--only <substring>] [--kill-after <seconds>] [--dir <folder>]
 *
 * --heavy adds the hostile files too big or slow to build in the test (frame- and page-count
 * bombs, a 100 MP progressive JPEG). With --dir, the files under that folder are measured instead of freshly generated hostile files.
 * Prints one row per file (outcome, wall time, peak RSS, and the peak over the idle baseline of a
 * process that has loaded sharp), then the worst files. A file still running after --kill-after
 * seconds (default 120) is reported as `hung`. Figures depend on the machine: nothing asserts them.
 */

interface Measurement {
  outcome: string;
  ms: number;
  /** Peak resident set of the process, MB (includes Node and sharp, see the baseline row). */
  peakMb: number;
  /** Resident set before the file was read, MB. */
  beforeMb: number;
}

const mb = (kilobytes: number) => Math.round(kilobytes / 1024);

/**
 * Peak RSS of this process, KB. Linux carries ru_maxrss across exec, so a child spawned by a parent
 * holding 200 MB of generated files would report at least that; VmHWM belongs to the new address space.
 */
function peakRssKb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

async function measureOne(file: string): Promise<void> {
  const config = loadConfig();
  // Warm sharp's thread pool with a 1x1 image so start-up cost is not charged to the file.
  const warmUp = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  await renderThumbnails(warmUp, config.thumbnails, config.limits);
  const beforeMb = mb(peakRssKb());
  const data = readFileSync(file);
  const started = performance.now();
  let outcome: string;
  try {
    const rendered = await renderThumbnails(data, config.thumbnails, config.limits);
    outcome = `thumbnails ${rendered.thumbnails.map((t) => `${t.width}x${t.height}`).join(' ')}`;
  } catch (error) {
    outcome = error instanceof PermanentError ? `${error.reason}: ${error.message.slice(0, 90)}` : `THREW ${(error as Error).stack}`;
  }
  const result: Measurement = { outcome, ms: Math.round(performance.now() - started), peakMb: mb(peakRssKb()), beforeMb };
  process.stdout.write(JSON.stringify(result));
}

function runChild(file: string, killAfterSeconds: number): Promise<Measurement> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...process.execArgv, __filename, '--one', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout) as Measurement);
      } catch {
        const ms = Math.round(performance.now() - started);
        const why =
          signal === 'SIGKILL'
            ? `hung (killed after ${killAfterSeconds} s)`
            : `CRASHED code=${code} signal=${signal} ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        resolve({ outcome: why, ms, peakMb: NaN, beforeMb: NaN });
      }
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const option = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  if (option('--one')) return measureOne(option('--one')!);
  const killAfter = Number(option('--kill-after') ?? 120);
  const only = option('--only');

  const dir = mkdtempSync(path.join(tmpdir(), 'hostile-measure-'));
  try {
    const from = option('--dir');
    const files: { name: string; path: string; bytes: number }[] = from
      ? (readdirSync(from, { recursive: true }) as string[])
          .filter((name) => statSync(path.join(from, name)).isFile())
          .sort()
          .map((name) => ({ name, path: path.join(from, name), bytes: statSync(path.join(from, name)).size }))
      : (await writeHostileFiles(dir, { heavy: argv.includes('--heavy') })).map((file) => ({
          name: file.name,
          path: file.path,
          bytes: file.data.length,
        }));
    if (argv.includes('--pngsuite')) {
      const suite = path.resolve(__dirname, '../fixtures/corpus/pngsuite');
      for (const name of readdirSync(suite)
        .filter((entry) => entry.endsWith('.png'))
        .sort()) {
        const file = path.join(suite, name);
        files.push({ name: `pngsuite/${name}`, path: file, bytes: readFileSync(file).length });
      }
    }
    const selected = files.filter((file) => !only || file.name.includes(only));
    const rows: (Measurement & { name: string; bytes: number })[] = [];
    for (const file of selected) {
      const measured = await runChild(file.path, killAfter);
      rows.push({ name: file.name, bytes: file.bytes, ...measured });
      console.log(
        `${file.name.padEnd(42)} ${String(file.bytes).padStart(9)} B ${String(measured.ms).padStart(6)} ms ${String(measured.peakMb).padStart(5)} MB peak (+${measured.peakMb - measured.beforeMb})  ${measured.outcome}`,
      );
    }
    const idle = rows.length ? Math.min(...rows.map((row) => row.beforeMb).filter(Number.isFinite)) : NaN;
    const worst = (key: 'ms' | 'peakMb') =>
      [...rows]
        .filter((row) => Number.isFinite(row[key]))
        .sort((a, b) => b[key] - a[key])
        .slice(0, 5);
    console.log(`\nidle process after loading sharp and a warm-up render: ${idle} MB`);
    console.log(
      'slowest:',
      worst('ms')
        .map((row) => `${row.name} ${row.ms} ms`)
        .join(', '),
    );
    console.log(
      'largest peak RSS:',
      worst('peakMb')
        .map((row) => `${row.name} ${row.peakMb} MB`)
        .join(', '),
    );
    const failed = rows.filter((row) => /^(hung|CRASHED|THREW)/.test(row.outcome));
    if (failed.length) console.log(`NOT FINAL: ${failed.map((row) => row.name).join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(1);
});
