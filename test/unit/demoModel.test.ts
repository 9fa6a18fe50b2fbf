import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { generateShapeSet } from '../../scripts/model/dataset';
import { SHAPE_LABELS } from '../../scripts/model/shapes';
import { parseManifest } from '../../shared/predict/manifest';

// The committed demo model, exactly as `npm start` seeds it and the predict function loads it.
const MODEL_DIR = path.resolve(__dirname, '../../models/shapes/1');
/** Not the build's training or held-out streams (those are derived from seed 1 by purpose). */
const TEST_SEED = 20_240_611;
const PICTURES = 120;

const manifest = parseManifest(readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8'));
let session: ort.InferenceSession;

beforeAll(async () => {
  session = await ort.InferenceSession.create(readFileSync(path.join(MODEL_DIR, 'model.onnx')), {
    intraOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
});
afterAll(() => session?.release());

describe('the committed demo model (models/shapes/1)', () => {
  test('has a valid manifest naming the shapes it was trained on and tensors the graph has', () => {
    expect(manifest).toMatchObject({ name: 'shapes', version: '1', layout: 'NCHW', channelOrder: 'RGB', outputType: 'probabilities' });
    expect(manifest.labels).toEqual([...SHAPE_LABELS]);
    expect(session.inputNames).toEqual([manifest.inputName]);
    expect(session.outputNames).toEqual([manifest.outputName]);
  });

  test(`classifies ${PICTURES} unseen synthetic pictures, preprocessed as the predict function does, with >= 95% accuracy`, async () => {
    const set = await generateShapeSet(TEST_SEED, PICTURES, manifest);
    const pictureSize = 3 * manifest.width * manifest.height;
    let correct = 0;
    for (let i = 0; i < set.count; i++) {
      // One picture per run, [1, 3, H, W], as the predict function feeds it.
      const input = new ort.Tensor('float32', set.inputs.slice(i * pictureSize, (i + 1) * pictureSize), [1, ...set.pictureDims]);
      const scores = Array.from((await session.run({ [manifest.inputName]: input }))[manifest.outputName].data as Float32Array);

      expect(scores).toHaveLength(manifest.labels.length);
      expect(scores.every((p) => p >= 0 && p <= 1)).toBe(true);
      expect(Math.abs(scores.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4);
      if (scores.indexOf(Math.max(...scores)) === set.labels[i]) correct++;
    }
    expect(correct / set.count).toBeGreaterThanOrEqual(0.95);
  });
});
