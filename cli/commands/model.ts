import { rmSync } from 'node:fs';
import path from 'node:path';
import { checkModel } from '../../ops/modelCheck';
import { type ImportedModel, importTfjsModel, TFJS_IMAGE_INPUT } from '../../ops/modelImport';
import { createS3Client } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import { type ModelManifest, parseManifest } from '../../shared/predict/manifest';
import { MANIFEST_FILE, MODEL_FILE, type ModelFiles, readModelDirectory, uploadModelFiles } from '../../shared/predict/modelStore';
import type { ModelImportArgs, ModelUploadArgs } from '../args';
import { connectionFailure, EXIT, LOCAL_STACK_HINT, reportFailure } from '../errors';
import type { Output } from '../output';
import { localClientEnv } from '../target';

const COMMAND = 'model upload';

/**
 * `pipeline model upload`: validates a model folder's manifest, loads the graph and runs it once
 * against the manifest, and only then puts it at
 * `s3://<models bucket>/<name>/<version>/`. `--name` / `--version` override (and are written into)
 * the manifest. The local stack by default, or wherever AWS_ENDPOINT_URL_S3 points; real AWS with --aws.
 * Exit codes: 0 uploaded, 1 failed (a missing file, a bad manifest, the bucket unreachable).
 */
export async function runModelUpload(args: ModelUploadArgs, output: Output): Promise<number> {
  let files: ModelFiles;
  try {
    files = await readModelDirectory(args.dir);
  } catch (error) {
    reportFailure(output, COMMAND, error, `cannot read the model folder ${args.dir}`);
    return EXIT.failed;
  }
  let manifest: ModelManifest;
  try {
    manifest = {
      ...parseManifest(files.manifestText),
      ...(args.name && { name: args.name }),
      ...(args.version && { version: args.version }),
    };
  } catch (error) {
    reportFailure(output, COMMAND, error, path.join(args.dir, MANIFEST_FILE));
    return EXIT.failed;
  }
  try {
    await checkModel(files.model, manifest);
  } catch (error) {
    reportFailure(output, COMMAND, error, `${path.join(args.dir, MODEL_FILE)} does not run as its manifest describes`);
    return EXIT.failed;
  }
  const bucket = args.bucket ?? process.env.MODELS_BUCKET ?? declaredConfig.local.buckets.models;
  const local = !args.aws && !process.env.AWS_ENDPOINT_URL_S3;
  const env = args.aws ? process.env : localClientEnv().clientEnv;
  const s3 = createS3Client(env);
  const location = { bucket, prefix: `${manifest.name}/${manifest.version}/` };
  const uri = `s3://${location.bucket}/${location.prefix}`;
  try {
    await uploadModelFiles(s3, location, { model: files.model, manifestText: `${JSON.stringify(manifest, null, 2)}\n` });
  } catch (error) {
    const where = `could not upload to ${uri}${args.aws ? '' : ` at ${env.AWS_ENDPOINT_URL_S3}`}`;
    if (local && connectionFailure(error)) output.err(`pipeline ${COMMAND}: ${where}: ${LOCAL_STACK_HINT}`);
    else reportFailure(output, COMMAND, error, where);
    return EXIT.failed;
  } finally {
    s3.destroy();
  }
  output.out(JSON.stringify({ ok: true, uri, name: manifest.name, version: manifest.version, bytes: files.model.length }));
  output.err(
    `Model uploaded. To make it active: MODEL_URI=${uri} (locally), or on AWS: aws ssm put-parameter --overwrite --name /<service>/<stage>/model-uri --value ${uri}`,
  );
  return EXIT.ok;
}

/**
 * `pipeline model import`: a TF.js Layers model to a model folder in the pipeline's format, its
 * preprocessing TF.js's usual one (RGB, v / 255). The converted graph is run once against the
 * manifest before anything is written. Exit codes: 0 written, 1 refused (nothing written).
 */
export async function runModelImport(args: ModelImportArgs, output: Output): Promise<number> {
  const command = 'model import';
  let imported: ImportedModel;
  try {
    imported = importTfjsModel(args.dir, args.out, {
      ...TFJS_IMAGE_INPUT,
      mean: [...TFJS_IMAGE_INPUT.mean],
      std: [...TFJS_IMAGE_INPUT.std],
      name: args.name,
      version: args.version,
      labels: args.labels,
      fit: args.fit,
    });
  } catch (error) {
    reportFailure(output, command, error, `cannot import ${args.dir}`);
    return EXIT.failed;
  }
  const { converted, manifest, files } = imported;
  try {
    await checkModel(converted.onnx, manifest);
  } catch (error) {
    for (const file of files) rmSync(file, { force: true });
    reportFailure(output, command, error, `the converted model does not run as its manifest describes (nothing kept in ${args.out})`);
    return EXIT.failed;
  }
  output.out(
    JSON.stringify({
      ok: true,
      out: args.out,
      name: manifest.name,
      version: manifest.version,
      input: [manifest.height, manifest.width, 3],
      labels: manifest.labels,
      parameters: converted.parameterCount,
      foldedBatchNorms: converted.foldedBatchNorms,
      bytes: converted.onnx.length,
    }),
  );
  output.err(`Model written to ${args.out}. Upload it with: npx pipeline model upload ${args.out}`);
  return EXIT.ok;
}
