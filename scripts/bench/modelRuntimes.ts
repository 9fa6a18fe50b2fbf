/**
 * Measures both ONNX runtimes side by side in one run, each measurement in a fresh process:
 * cold model load, single-threaded inference p50/p95 and peak RSS, for the demo model and a
 * MobileNetV2-sized graph (`npm run model:mobilenet` writes it; random weights are fine for timing).
 *   npm run bench:runtimes [-- --runs 100 --repeats 3]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

const root = path.resolve(__dirname, '../..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const runs = flag('runs', 100);
const repeats = flag('repeats', 3);

const models = [
  { label: 'demo (shapes/1)', dir: path.join(root, 'models/shapes/1') },
  { label: 'MobileNetV2-sized', dir: path.join(root, '.cache/models/mobilenetv2-like') },
];

interface Probe {
  runtime: string;
  loadMs: number;
  importMs: number;
  p50Ms: number;
  p95Ms: number;
  peakRssMb: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function probe(runtime: string, dir: string): Probe {
  const out = execFileSync(
    process.execPath,
    [require.resolve('tsx/cli'), path.join(__dirname, 'runtimeProbe.ts'), runtime, dir, String(runs)],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

const rows: string[][] = [['model', 'runtime', 'import ms', 'load ms', 'p50 ms', 'p95 ms', 'peak RSS MB']];
for (const model of models) {
  if (!existsSync(path.join(model.dir, 'model.onnx'))) {
    console.error(`skipping ${model.label}: ${path.relative(root, model.dir)} is missing (run npm run model:mobilenet)`);
    continue;
  }
  for (const runtime of ['node', 'web']) {
    const probes = Array.from({ length: repeats }, () => probe(runtime, model.dir));
    const pick = (key: keyof Omit<Probe, 'runtime'>) => median(probes.map((p) => p[key])).toFixed(1);
    rows.push([model.label, `onnxruntime-${runtime}`, pick('importMs'), pick('loadMs'), pick('p50Ms'), pick('p95Ms'), pick('peakRssMb')]);
  }
}
/**
 * What each runtime adds to the predict zip for one target (linux arm64 / x64), measured on the
 * installed files: bytes, and bytes after zip's deflate. The packaged predict zip itself is
 * measured by test/template/zip.test.ts (onnxruntime-node, the choice).
 */
function filesUnder(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target).flatMap((name) => filesUnder(path.join(target, name)));
}
function payload(paths: string[]) {
  const files = paths.flatMap((relative) => filesUnder(path.join(root, 'node_modules', relative)));
  const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
  const zipped = files.reduce((sum, file) => sum + deflateRawSync(readFileSync(file)).length, 0);
  return `${(bytes / 1e6).toFixed(1)} MB (${(zipped / 1e6).toFixed(1)} MB zipped)`;
}
const nodeDist = [
  'onnxruntime-node/dist',
  'onnxruntime-node/package.json',
  'onnxruntime-common/dist/cjs',
  'onnxruntime-common/package.json',
];
const webFiles = [
  'onnxruntime-web/dist/ort.node.min.js',
  'onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
  'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
  'onnxruntime-common/dist/cjs',
  'onnxruntime-common/package.json',
];
const payloadRows = [
  ['target', 'runtime', 'payload in the predict zip'],
  ...['arm64', 'x64'].map((arch) => [
    `linux ${arch}`,
    'onnxruntime-node',
    payload([...nodeDist, `onnxruntime-node/bin/napi-v6/linux/${arch}`]),
  ]),
  ['any', 'onnxruntime-web', payload(webFiles)],
];

function printTable(table: string[][]) {
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table)
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    );
}
printTable(rows);
console.log(`\n${runs} inferences per process, median of ${repeats} fresh processes, 1 thread, Node ${process.version}, ${process.arch}\n`);
printTable(payloadRows);
