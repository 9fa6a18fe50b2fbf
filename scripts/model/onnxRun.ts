/**
 * Runs an exported ONNX model over a set of pictures with onnxruntime-node: the check that the
 * file the predict function will load computes what tfjs computed.
 */
import * as ort from 'onnxruntime-node';
import type { ShapeSet } from './dataset';

/** Class scores for every picture of the set, row after row, in batches of `batch`. */
export async function onnxScores(
  model: Uint8Array,
  set: ShapeSet,
  inputName: string,
  outputName: string,
  batch = 100,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
  try {
    const pictureSize = set.pictureDims.reduce((a, b) => a * b, 1);
    const rows: Float32Array[] = [];
    for (let start = 0; start < set.count; start += batch) {
      const count = Math.min(batch, set.count - start);
      const input = new ort.Tensor('float32', set.inputs.slice(start * pictureSize, (start + count) * pictureSize), [
        count,
        ...set.pictureDims,
      ]);
      const result = await session.run({ [inputName]: input });
      rows.push(result[outputName].data as Float32Array);
    }
    const out = new Float32Array(rows.reduce((n, row) => n + row.length, 0));
    let offset = 0;
    for (const row of rows) {
      out.set(row, offset);
      offset += row.length;
    }
    return out;
  } finally {
    await session.release();
  }
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
