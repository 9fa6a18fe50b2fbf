import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createS3Client } from '../../shared/clients';
import { loadConfig } from '../../shared/config';
import { PermanentError } from '../../shared/errors';
import { createClassifier } from '../../shared/predict/classifier';
import { parseManifest } from '../../shared/predict/manifest';
import { fetchModelFiles, type ModelFiles, parseS3Uri, readModelDirectory } from '../../shared/predict/modelStore';
import { classifyImage } from '../../shared/predict/predictObject';
import type { PredictArgs } from '../args';
import { type Output, rejectionResult } from '../output';
import { localClientEnv } from '../target';
import { EXIT_REJECTED } from './resize';

export const DEMO_MODEL_DIR = path.resolve(__dirname, '../../models/shapes/1');

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

/** `pipeline predict`: the predict function's validation, preprocessing and inference on a local file, no queue. */
export async function runPredict(args: PredictArgs, output: Output): Promise<number> {
  const config = loadConfig();
  const modelLocation = args.model ?? DEMO_MODEL_DIR;
  let input: Buffer;
  let files: ModelFiles;
  try {
    input = await readFile(args.file);
    files = await loadModelFiles(modelLocation);
  } catch (error) {
    output.err(`pipeline predict: ${(error as Error).message}`);
    return 1;
  }
  const classifier = await createClassifier(files.model, parseManifest(files.manifestText), config.prediction.threads);
  try {
    const classified = await classifyImage(input, classifier, config);
    const { name, version } = classifier.manifest;
    output.out(
      JSON.stringify({
        ok: true,
        source: { path: args.file, bytes: input.length, ...classified.image },
        model: { name, version, uri: modelLocation },
        labels: classified.labels,
        timings: classified.timings,
      }),
    );
    return 0;
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
