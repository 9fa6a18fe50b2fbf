import { Worker } from 'node:worker_threads';
import type { TfjsLayersModel } from '../../ops/modelImport';

/**
 * The reference a converted model is checked against: tfjs's own prediction of the original
 * Layers model, run in a worker thread. The same pure-JS CPU backend, but in a plain Node realm,
 * where it is about 4x faster than inside Jest's VM context (~1 s per image, not ~4 s).
 */
const TFJS_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const tf = require(workerData.tfjs);
tf.env().set('PROD', true); // no "install tfjs-node" banner
(async () => {
  const { modelTopology, weightSpecs, weightData, batch, count, size } = workerData;
  const model = await tf.loadLayersModel({ load: async () => ({ modelTopology, weightSpecs, weightData }) });
  const started = performance.now();
  const scores = tf.tidy(() => model.predict(tf.tensor(batch, [count, size, size, 3])).dataSync());
  parentPort.postMessage({ scores, ms: performance.now() - started });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

/** tfjs's scores for `count` NHWC images of `size` x `size` in `batch`, and how long the prediction took. */
export function tfjsPredict(
  model: TfjsLayersModel,
  batch: Float32Array,
  count: number,
  size: number,
): Promise<{ scores: Float32Array; ms: number }> {
  const workerData = {
    tfjs: require.resolve('@tensorflow/tfjs'),
    modelTopology: model.model.modelTopology,
    weightSpecs: model.model.weightsManifest.flatMap((group) => group.weights),
    weightData: model.weightData,
    batch,
    count,
    size,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(TFJS_WORKER, { eval: true, workerData });
    worker.once('message', (message) => {
      void worker.terminate();
      if (message.error) reject(new Error(message.error));
      else resolve(message);
    });
    worker.once('error', reject);
  });
}
