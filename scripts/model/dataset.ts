/**
 * A labelled set of synthetic shape pictures, each passed through the predict function's own
 * `preprocess`, so the model trains on exactly the tensors it will be served.
 */
import type { ModelManifest } from '../../shared/predict/manifest';
import { preprocess } from '../../shared/predict/preprocess';
import { createRandom } from './random';
import { randomShapeSpec, renderShape, SHAPE_LABELS } from './shapes';

export interface ShapeSet {
  /** count x (3 x height x width) in the manifest's layout, one picture after another. */
  inputs: Float32Array;
  /** Index into the manifest's labels, per picture. */
  labels: Int32Array;
  count: number;
  /** Dims of one picture, without the batch: [3, H, W] for NCHW, [H, W, 3] for NHWC. */
  pictureDims: [number, number, number];
}

/** Pictures rendered at once: sharp works on its own threads, so a few in flight keeps both cores busy. */
const IN_FLIGHT = 8;

/**
 * `count` pictures from `seed`, classes in rotation (balanced). Every random choice is drawn up
 * front from the seed, so the set is the same whatever order the renders finish in.
 */
export async function generateShapeSet(seed: number, count: number, manifest: ModelManifest): Promise<ShapeSet> {
  const labelIndex = (label: string) => {
    const index = manifest.labels.indexOf(label);
    if (index < 0) throw new Error(`manifest has no label "${label}"`);
    return index;
  };
  const rng = createRandom(seed);
  const specs = Array.from({ length: count }, (_, i) => randomShapeSpec(rng, SHAPE_LABELS[i % SHAPE_LABELS.length]));
  const pictureSize = 3 * manifest.width * manifest.height;
  const inputs = new Float32Array(count * pictureSize);
  for (let start = 0; start < count; start += IN_FLIGHT) {
    const batch = specs.slice(start, start + IN_FLIGHT);
    const tensors = await Promise.all(batch.map(async (spec) => (await preprocess(await renderShape(spec), manifest)).tensor));
    tensors.forEach((tensor, offset) => inputs.set(tensor, (start + offset) * pictureSize));
  }
  return {
    inputs,
    labels: Int32Array.from(specs, (spec) => labelIndex(spec.label)),
    count,
    pictureDims: manifest.layout === 'NCHW' ? [3, manifest.height, manifest.width] : [manifest.height, manifest.width, 3],
  };
}
