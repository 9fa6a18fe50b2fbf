import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createS3Client } from '../../shared/clients';
import { loadConfig } from '../../shared/config';
import { PermanentError } from '../../shared/errors';
import { createClassifier } from '../../shared/predict/classifier';
import { type ModelManifest, parseManifest } from '../../shared/predict/manifest';
import {
  fetchModelFiles,
  MANIFEST_FILE,
  MODEL_FILE,
  type ModelFiles,
  parseS3Uri,
  readModelDirectory,
} from '../../shared/predict/modelStore';
import { classifyImage } from '../../shared/predict/predictObject';
import type { PredictArgs } from '../args';
import { EXIT, reportFailure } from '../errors';
import { type Output, rejectionResult } from '../output';
import { localClientEnv } from '../target';
import { EXIT_REJECTED } from './resize';

/** The default model, as npm start seeds it. */
const DEFAULT_MODEL_DIR = path.resolve(__dirname, '../../models/moderation/1');

/** s3:// URIs are read from the local stack unless AWS_ENDPOINT_URL_S3 points elsewhere. */
async function loadModelFiles(model: string): Promise<ModelFiles> {
  if (!model.startsWith('s3://')) return readModelDirectory(model);
  const s3 = createS3Client(localClientEnv().clientEnv);
  try {
    return await fetchModelFiles(s3, parseS3Uri(model));
  } finally {
    s3.destroy();
  }
}

/** A file of the model, for messages: `models/shapes/1/manifest.json`, `s3://models/shapes/1/manifest.json`. */
const modelFile = (location: string, file: string) =>
  location.startsWith('s3://') ? `${location.replace(/\/?$/, '/')}${file}` : path.join(location, file);

/**
 * `pipeline predict`: the predict function's validation, preprocessing and inference on a local file, no queue.
 * Exit codes: 0 predicted, 2 image rejected, 1 any other failure (a missing file, a bad model or manifest).
 */
export async function runPredict(args: PredictArgs, output: Output): Promise<number> {
  const config = loadConfig();
  const modelLocation = args.model ?? DEFAULT_MODEL_DIR;
  let input: Buffer;
  let files: ModelFiles;
  let manifest: ModelManifest;
  try {
    input = await readFile(args.file);
  } catch (error) {
    reportFailure(output, 'predict', error, `cannot read ${args.file}`);
    return EXIT.failed;
  }
  try {
    files = await loadModelFiles(modelLocation);
  } catch (error) {
    reportFailure(output, 'predict', error, `cannot read the model ${modelLocation}`);
    return EXIT.failed;
  }
  try {
    manifest = parseManifest(files.manifestText);
  } catch (error) {
    reportFailure(output, 'predict', error, modelFile(modelLocation, MANIFEST_FILE));
    return EXIT.failed;
  }
  let classifier: Awaited<ReturnType<typeof createClassifier>>;
  try {
    classifier = await createClassifier(files.model, manifest, config.prediction.threads);
  } catch (error) {
    reportFailure(output, 'predict', error, `cannot load the model ${modelFile(modelLocation, MODEL_FILE)}`);
    return EXIT.failed;
  }
  try {
    const classified = await classifyImage(input, classifier, config);
    const { name, version } = classifier.manifest;
    output.out(
      JSON.stringify({
        ok: true,
        source: { path: args.file, bytes: input.length, ...classified.image },
        model: { name, version, uri: modelLocation },
        labels: classified.labels,
        moderation: classified.moderation,
        timings: classified.timings,
      }),
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof PermanentError) {
      output.out(JSON.stringify(rejectionResult({ path: args.file, bytes: input.length }, error)));
      return EXIT_REJECTED;
    }
    throw error;
  } finally {
    await classifier.release();
  }
}
