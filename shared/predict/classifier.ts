import type { InferenceSession as Session } from 'onnxruntime-node';
import { ManifestError, type ModelManifest } from './manifest';
import type { PreprocessedImage } from './preprocess';
import { softmax } from './scores';

export interface Classifier {
  manifest: ModelManifest;
  /** Class probabilities, one per manifest label. */
  classify(image: PreprocessedImage): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * An ONNX classifier on onnxruntime-node (native CPU; measured against the WASM build in the
 * README's Prediction section). Loaded lazily so that nothing but the predict function pays for it.
 * The graph's tensor names are checked against the manifest here, at load, rather than on the
 * first image.
 */
export async function createClassifier(model: Uint8Array, manifest: ModelManifest, threads: number): Promise<Classifier> {
  const ort = await import('onnxruntime-node');
  const session: Session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  if (!session.inputNames.includes(manifest.inputName)) {
    throw new ManifestError(
      'inputName',
      `the graph has no input ${JSON.stringify(manifest.inputName)} (it has ${session.inputNames.join(', ')})`,
    );
  }
  if (!session.outputNames.includes(manifest.outputName)) {
    throw new ManifestError(
      'outputName',
      `the graph has no output ${JSON.stringify(manifest.outputName)} (it has ${session.outputNames.join(', ')})`,
    );
  }
  return {
    manifest,
    async classify({ tensor, dims }) {
      const input = new ort.Tensor('float32', tensor, dims);
      const outputs = await session.run({ [manifest.inputName]: input });
      const scores = outputs[manifest.outputName].data as Float32Array;
      if (scores.length !== manifest.labels.length) {
        throw new ManifestError(
          'labels',
          `the model returns ${scores.length} scores but the manifest lists ${manifest.labels.length} labels`,
        );
      }
      return manifest.outputType === 'logits' ? softmax(scores) : Float32Array.from(scores);
    },
    release: () => session.release(),
  };
}
