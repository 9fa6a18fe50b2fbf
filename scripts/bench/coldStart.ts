import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { FUNCTIONS as REGISTRY } from '../../functions/registry';
import { dlqUrlVariable } from '../../shared/environment';
import { listZip, packageService, type ZipEntry } from '../packageService';
import { BENCH_CACHE, ROOT } from './images/corpus';
import { median, round } from './images/stats';

/**
 * `npm run bench -- --cold-start`: what a cold start has to load. For each function: the zip and
 * unzipped size of the package `serverless package` builds (with the packages inside, largest
 * first, and whether a heavy module leaked into the resize bundle), and the init time of its
 * handler module: `require` of the BUNDLED handler (unzipped from the host-architecture zip) in a
 * fresh Node process, median of several runs, against `node -e 0`; the same through tsx from the
 * TypeScript sources for comparison.
 *
 * Zips: `.serverless/<function>.zip` when someone ran `npx serverless package` (its architecture is
 * read from the sharp binary inside), else .cache/bench/package-<arch>/, packaged here on first use
 * (~1-2 min per architecture, offline, serialised with the template tests' lock). A zip older than
 * any file it is built from (functions/, shared/, package*.json, serverless.yml, the config) is not used.
 */

export const FUNCTIONS: readonly string[] = REGISTRY.map((fn) => fn.name);
export type FunctionName = string;
export type PackageArch = 'arm64' | 'x86_64';
/** The architecture serverless.yml deploys by default. */
export const DEPLOY_ARCH: PackageArch = 'arm64';
export const HOST_ARCH: PackageArch | undefined = process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x86_64' : undefined;
/** Modules that must never reach the resize zip: the model runtimes and build-time tools. */
export const HEAVY_MODULES =
  /^(onnxruntime-(node|web|common)|@tensorflow\/.*|aws-sdk|typescript|esbuild|@esbuild\/.*|jest|osls|serverless)$/;

export interface ZipFigures {
  function: FunctionName;
  arch: PackageArch;
  source: string;
  zip_mb: number;
  unzipped_mb: number;
  files: number;
  bundle_kb: number;
  sourcemap_kb: number;
  packages: { name: string; mb: number }[];
  heavy_modules: string[];
  /** Whether the bundled handler's code names onnxruntime at all. */
  bundle_mentions_onnxruntime: boolean;
}

export interface InitFigures {
  function: FunctionName;
  how: 'bundle' | 'tsx';
  /** Whole process, spawn to exit, median. */
  process_ms: number;
  /** Ratio of process_ms to `node -e 0`'s. */
  ratio_to_node: number;
  /** `require` of the module alone, measured inside the process, median. */
  require_ms: number;
}

export interface ColdStartResult {
  benchmark: 'cold-start';
  date: string;
  node: string;
  runs: number;
  node_baseline_ms: number;
  zips: ZipFigures[];
  init: InitFigures[];
  resize_bundle_clean: boolean;
}

const MB = 1024 * 1024;

function zipArch(entries: ZipEntry[]): PackageArch | undefined {
  if (entries.some((entry) => entry.name.startsWith('node_modules/@img/sharp-linux-arm64/'))) return 'arm64';
  if (entries.some((entry) => entry.name.startsWith('node_modules/@img/sharp-linux-x64/'))) return 'x86_64';
  return undefined;
}

interface ZipSet {
  arch: PackageArch;
  source: string;
  zips: Record<FunctionName, string>;
}

/** What a package is built from: a zip older than any of these is stale. */
const PACKAGE_SOURCES = ['functions', 'shared', 'infra', 'package.json', 'package-lock.json', 'serverless.yml', 'pipeline.config.json'];

function newestMtime(entry: string): number {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

/** Zips found without packaging, and newer than every source: `.serverless/` (one architecture) and the bench cache. */
function existingZips(): ZipSet[] {
  const sourcesChanged = Math.max(...PACKAGE_SOURCES.map((entry) => newestMtime(path.join(ROOT, entry))));
  const fresh = (zips: Record<FunctionName, string>) =>
    FUNCTIONS.every((fn) => existsSync(zips[fn]) && statSync(zips[fn]).mtimeMs > sourcesChanged);
  const sets: ZipSet[] = [];
  const project = Object.fromEntries(FUNCTIONS.map((fn) => [fn, path.join(ROOT, '.serverless', `${fn}.zip`)])) as Record<
    FunctionName,
    string
  >;
  if (fresh(project)) {
    const arch = zipArch(listZip(project[FUNCTIONS[0]]));
    if (arch) sets.push({ arch, source: '.serverless/ (an existing `serverless package`)', zips: project });
  }
  for (const arch of ['arm64', 'x86_64'] as const) {
    if (sets.some((set) => set.arch === arch)) continue;
    const dir = path.join(BENCH_CACHE, `package-${arch}`);
    const zips = Object.fromEntries(FUNCTIONS.map((fn) => [fn, path.join(dir, `${fn}.zip`)])) as Record<FunctionName, string>;
    if (fresh(zips)) sets.push({ arch, source: `.cache/bench/package-${arch}/ (packaged by this benchmark)`, zips });
  }
  return sets;
}

async function packageInto(arch: PackageArch, log: (line: string) => void): Promise<ZipSet> {
  log(`Packaging for ${arch} with serverless (offline; about 1-2 minutes) ...`);
  const result = await packageService({ arch });
  try {
    const dir = path.join(BENCH_CACHE, `package-${arch}`);
    mkdirSync(dir, { recursive: true });
    const zips = {} as Record<FunctionName, string>;
    for (const fn of FUNCTIONS) {
      zips[fn] = path.join(dir, `${fn}.zip`);
      copyFileSync(path.join(result.dir, `${fn}.zip`), zips[fn]);
    }
    log(`  packaged in ${result.seconds.toFixed(0)} s`);
    return { arch, source: `.cache/bench/package-${arch}/ (packaged by this benchmark)`, zips };
  } finally {
    result.cleanup();
  }
}

function zipFigures(fn: FunctionName, set: ZipSet): ZipFigures {
  const file = set.zips[fn];
  const entries = listZip(file);
  const packages = new Map<string, number>();
  for (const entry of entries) {
    const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(entry.name);
    if (match) packages.set(match[1], (packages.get(match[1]) ?? 0) + entry.size);
  }
  const bundleName = `functions/${fn}/handler.js`;
  const bundleEntry = entries.find((entry) => entry.name === bundleName);
  const bundle = bundleEntry ? readEntry(readFileSync(file), bundleEntry).toString('utf8') : '';
  return {
    function: fn,
    arch: set.arch,
    source: set.source,
    zip_mb: round(statSync(file).size / MB, 1),
    unzipped_mb: round(entries.reduce((total, entry) => total + entry.size, 0) / MB, 1),
    files: entries.length,
    bundle_kb: round((bundleEntry?.size ?? 0) / 1024),
    sourcemap_kb: round((entries.find((entry) => entry.name === `${bundleName}.map`)?.size ?? 0) / 1024),
    packages: [...packages.entries()].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => ({ name, mb: round(bytes / MB, 1) })),
    heavy_modules: [...packages.keys()].filter((name) => HEAVY_MODULES.test(name)).sort(),
    bundle_mentions_onnxruntime: bundle.includes('onnxruntime'),
  };
}

function readEntry(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(data);
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`${entry.name}: compression method ${entry.method}`);
}

/** Unzips once into .cache/bench/unzipped-<arch>/<function>/ (again when the zip is newer). */
function unzip(file: string, dir: string): void {
  const stamp = path.join(dir, '.from-zip');
  const zipTime = String(statSync(file).mtimeMs);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === zipTime) return;
  rmSync(dir, { recursive: true, force: true });
  const zip = readFileSync(file);
  for (const entry of listZip(file)) {
    if (entry.name.endsWith('/')) continue;
    const target = path.join(dir, entry.name);
    if (!target.startsWith(dir + path.sep)) throw new Error(`${file}: entry ${entry.name} escapes the folder`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, readEntry(zip, entry));
  }
  writeFileSync(stamp, zipTime);
}

/** The handlers read these when their module loads; values that never reach the network. */
const HANDLER_ENV: NodeJS.ProcessEnv = {
  AWS_REGION: 'us-east-1',
  ...Object.fromEntries(REGISTRY.map((fn) => [dlqUrlVariable(fn.name), `http://127.0.0.1:9/000000000000/${fn.name}-dlq`])),
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // Lambda's nodejs24.x has no such warning; on Node 20 printing it would be charged to the init.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

function timeProcess(args: string[]): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...HANDLER_ENV };
    delete env.NODE_OPTIONS;
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`));
      else resolve({ ms, stdout });
    });
  });
}

/** `require` of a module, timed inside the process; the process exits right after. */
const requireScript = (file: string) =>
  `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t)); process.exit(0);`;

export async function runColdStart(
  options: { runs?: number; repackage?: boolean; log?: (line: string) => void } = {},
): Promise<ColdStartResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const runs = options.runs ?? 9;
  let sets = options.repackage ? [] : existingZips();
  for (const arch of new Set([DEPLOY_ARCH, ...(HOST_ARCH ? [HOST_ARCH] : [])])) {
    if (!sets.some((set) => set.arch === arch)) sets = [...sets, await packageInto(arch, log)];
  }
  const zips = sets.flatMap((set) => FUNCTIONS.map((fn) => zipFigures(fn, set)));

  const hostSet = sets.find((set) => set.arch === HOST_ARCH);
  const targets: { fn: FunctionName; how: 'bundle' | 'tsx'; args: string[] }[] = [];
  for (const fn of FUNCTIONS) {
    if (hostSet) {
      const dir = path.join(BENCH_CACHE, `unzipped-${hostSet.arch}`, fn);
      unzip(hostSet.zips[fn], dir);
      targets.push({ fn, how: 'bundle', args: ['-e', requireScript(path.join(dir, 'functions', fn, 'handler.js'))] });
    }
    targets.push({
      fn,
      how: 'tsx',
      args: ['--require', require.resolve('tsx/cjs'), '-e', requireScript(path.join(ROOT, 'functions', fn, 'handler.ts'))],
    });
  }

  log(`Init time: ${runs} fresh processes each (node -e 0, ${targets.map((t) => `${t.fn} ${t.how}`).join(', ')}), interleaved ...`);
  const baseline: number[] = [];
  const samples = targets.map(() => ({ process: [] as number[], require: [] as number[] }));
  await timeProcess(['-e', '0']); // the first process start pays for the disk cache
  for (const target of targets) await timeProcess(target.args);
  for (let i = 0; i < runs; i++) {
    baseline.push((await timeProcess(['-e', '0'])).ms);
    for (const [index, target] of targets.entries()) {
      const { ms, stdout } = await timeProcess(target.args);
      samples[index].process.push(ms);
      samples[index].require.push(Number(stdout));
    }
  }
  const nodeMs = median(baseline);
  const init: InitFigures[] = targets.map((target, index) => ({
    function: target.fn,
    how: target.how,
    process_ms: round(median(samples[index].process), 1),
    ratio_to_node: round(median(samples[index].process) / nodeMs, 2),
    require_ms: round(median(samples[index].require), 1),
  }));

  const resizeZips = zips.filter((zip) => zip.function === 'resize');
  return {
    benchmark: 'cold-start',
    date: new Date().toISOString(),
    node: process.version,
    runs,
    node_baseline_ms: round(nodeMs, 1),
    zips,
    init,
    resize_bundle_clean: resizeZips.every((zip) => zip.heavy_modules.length === 0 && !zip.bundle_mentions_onnxruntime),
  };
}

export function coldStartReport(result: ColdStartResult): string {
  const lines = [
    'Packages (serverless package; sizes in MB)',
    `  ${'function'.padEnd(10)}${'arch'.padEnd(8)}${'zip'.padStart(7)}${'unzipped'.padStart(10)}${'files'.padStart(7)}${'bundle KB'.padStart(11)}${'map KB'.padStart(8)}  largest packages`,
  ];
  for (const zip of result.zips) {
    lines.push(
      `  ${zip.function.padEnd(10)}${zip.arch.padEnd(8)}${zip.zip_mb.toFixed(1).padStart(7)}${zip.unzipped_mb.toFixed(1).padStart(10)}${String(zip.files).padStart(7)}${String(zip.bundle_kb).padStart(11)}${String(zip.sourcemap_kb).padStart(8)}  ${zip.packages
        .slice(0, 3)
        .map((p) => `${p.name} ${p.mb}`)
        .join(', ')}`,
    );
  }
  for (const zip of result.zips) {
    if (zip.heavy_modules.length > 0 || zip.bundle_mentions_onnxruntime) {
      lines.push(
        `  ${zip.function} (${zip.arch}) holds ${[...zip.heavy_modules, ...(zip.bundle_mentions_onnxruntime ? ['onnxruntime (named in the bundle)'] : [])].join(', ')}`,
      );
    }
  }
  lines.push(
    `  resize bundle free of heavy modules (onnxruntime only in predict): ${result.resize_bundle_clean ? 'yes' : 'NO'}`,
    `  zips from: ${[...new Set(result.zips.map((zip) => `${zip.arch}: ${zip.source}`))].join('; ')}`,
    '',
    `Init: loading the handler module in a fresh Node ${result.node} process, median of ${result.runs}; \`node -e 0\` takes ${result.node_baseline_ms} ms`,
    `  ${'function'.padEnd(10)}${'loaded from'.padEnd(26)}${'process ms'.padStart(11)}${'x node -e 0'.padStart(13)}${'require ms'.padStart(12)}`,
  );
  for (const init of result.init) {
    lines.push(
      `  ${init.function.padEnd(10)}${(init.how === 'bundle' ? 'bundle (from the zip)' : 'sources through tsx').padEnd(26)}${init.process_ms.toFixed(1).padStart(11)}${init.ratio_to_node.toFixed(2).padStart(13)}${init.require_ms.toFixed(1).padStart(12)}`,
    );
  }
  lines.push("  (on this machine's Node, not Lambda's nodejs24.x runtime; Lambda adds its own sandbox start and zip download)");
  return lines.join('\n');
}
