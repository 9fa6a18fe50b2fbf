import { createClassifier } from '../shared/predict/classifier';
import type { ModelManifest } from '../shared/predict/manifest';
import { toTensor } from '../shared/predict/preprocess';

/**
 * Loads a model as the predict function will and runs one grey picture through it, so that a
 * graph that does not load, whose tensor names, input shape or number of scores disagree with the
 * manifest, fails here (a ManifestError or onnxruntime's own error) instead of in every prediction.
 */
export async function checkModel(model: Uint8Array, manifest: ModelManifest): Promise<void> {
  const classifier = await createClassifier(model, manifest, 1);
  try {
    const grey = new Uint8Array(manifest.width * manifest.height * 3).fill(128);
    await classifier.classify(toTensor(grey, manifest));
  } finally {
    await classifier.release();
  }
}
