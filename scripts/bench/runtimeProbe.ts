/**
 * One measurement in a fresh process (so RSS and load time are not shared with other runs):
 * loads a model with one ONNX runtime and times single-threaded inference on a fixed input.
 *   tsx scripts/bench/runtimeProbe.ts <node|web> <model dir> <runs>
 * Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseManifest } from '../../shared/predict/manifest';

type Ort = typeof import('onnxruntime-node');

async function main() {
  const [runtime, modelDir, runsArg] = process.argv.slice(2);
  const runs = Number(runsArg ?? 50);
  const manifest = parseManifest(readFileSync(path.join(modelDir, 'manifest.json'), 'utf8'));
  const model = readFileSync(path.join(modelDir, 'model.onnx'));
  const importStart = performance.now();
  const ort: Ort = runtime === 'web' ? require('onnxruntime-web') : require('onnxruntime-node');
  if (runtime === 'web') (ort.env as { wasm: { numThreads: number } }).wasm.numThreads = 1;
  const loadStart = performance.now();
  const session = await ort.InferenceSession.create(
    model,
    runtime === 'web' ? { executionProviders: ['wasm'] } : { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] },
  );
  const loadMs = performance.now() - loadStart;
  const size = manifest.width * manifest.height * 3;
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i) * 0.5;
  const dims = manifest.layout === 'NCHW' ? [1, 3, manifest.height, manifest.width] : [1, manifest.height, manifest.width, 3];
  const feeds = { [manifest.inputName]: new ort.Tensor('float32', data, dims) };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await session.run(feeds);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(
    JSON.stringify({
      runtime,
      model: `${manifest.name}/${manifest.version}`,
      importMs: loadStart - importStart,
      loadMs,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
