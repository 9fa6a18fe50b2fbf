import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { LimitsConfig, ThumbnailConfig } from '../../../shared/config';
import { renderThumbnails } from '../../../shared/image/thumbnails';

/**
 * The three ways of making the same thumbnails (same input, same sizes, WebP at the same quality)
 * that the benchmark times against each other.
 */
export const PATH_NAMES = ['ours', 'vipsthumbnail', 'naive'] as const;
export type PathName = (typeof PATH_NAMES)[number];

export const PATH_DESCRIPTIONS: Record<PathName, string> = {
  ours: 'renderThumbnails: probe, one decode with shrink-on-load to the largest size, smaller sizes derived (the resize handler without S3)',
  vipsthumbnail: "libvips' own CLI, one process per size (`vipsthumbnail in --size N -o out.webp[Q=80]`), process wall time",
  naive: 'a tutorial pipeline: sharp(buffer).resize(size, size, {fit: "inside"}).webp({quality}).toBuffer() per size, all sizes at once',
};

export interface PathOutput {
  /** Total encoded bytes of every size. */
  bytesOut: number;
  /** Longest edge of each output, largest first. */
  edges: number[];
}

/** This project's path: exactly what the resize handler runs between the S3 GET and the PUTs. */
export async function runOurs(input: Buffer, thumbnails: ThumbnailConfig, limits: LimitsConfig): Promise<PathOutput> {
  const rendered = await renderThumbnails(input, thumbnails, limits);
  return {
    bytesOut: rendered.thumbnails.reduce((sum, thumbnail) => sum + thumbnail.data.length, 0),
    edges: rendered.thumbnails.map((thumbnail) => Math.max(thumbnail.width, thumbnail.height)),
  };
}

/**
 * The tutorial pipeline. Tutorials write `resize(size)`, which sets the width only; the box
 * (`fit: 'inside'`) is used here so that portrait pictures get the same output sizes as the other
 * two paths, not 1.5x the pixels. No auto-orientation, as in the tutorials.
 */
export async function runNaive(input: Buffer, sizes: readonly number[], quality: number): Promise<PathOutput> {
  const outputs = await Promise.all(
    sizes.map((size) => sharp(input).resize(size, size, { fit: 'inside' }).webp({ quality }).toBuffer({ resolveWithObject: true })),
  );
  return {
    bytesOut: outputs.reduce((sum, output) => sum + output.data.length, 0),
    edges: outputs.map((output) => Math.max(output.info.width, output.info.height)),
  };
}

/** Peak resident set (VmHWM) of a running process in kB, from /proc; undefined once it has exited. */
export function peakRssKb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessRun {
  ms: number;
  /** Highest VmHWM sampled (every `sampleMs`) while the process ran, kB. */
  peakRssKb: number;
}

/** Runs a program, timing it from spawn to exit and sampling its peak RSS. */
export function timedProcess(command: string, args: string[], sampleMs = 5): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    const sample = () => {
      const kb = child.pid === undefined ? undefined : peakRssKb(child.pid);
      if (kb !== undefined && kb > peak) peak = kb;
    };
    const timer = setInterval(sample, sampleMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      const ms = performance.now() - started;
      clearInterval(timer);
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
      else resolve({ ms, peakRssKb: peak });
    });
  });
}

/** libvips' thumbnailer, once per size; outputs go to `outDir` (absolute: vipsthumbnail puts relative names beside the input). */
export async function runVipsthumbnail(
  file: string,
  sizes: readonly number[],
  quality: number,
  outDir: string,
): Promise<PathOutput & ProcessRun> {
  let ms = 0;
  let peak = 0;
  let bytesOut = 0;
  const edges: number[] = [];
  for (const size of sizes) {
    const out = path.resolve(outDir, `${size}.webp`);
    const run = await timedProcess('vipsthumbnail', [file, '--size', String(size), '-o', `${out}[Q=${quality}]`]);
    ms += run.ms;
    peak = Math.max(peak, run.peakRssKb);
    const written = readFileSync(out);
    bytesOut += written.length;
    const { width = 0, height = 0 } = await sharp(written).metadata();
    edges.push(Math.max(width, height));
  }
  return { ms, peakRssKb: peak, bytesOut, edges };
}
