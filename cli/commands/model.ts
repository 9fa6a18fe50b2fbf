import { createS3Client } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import { parseManifest } from '../../shared/predict/manifest';
import { readModelDirectory, uploadModelFiles } from '../../shared/predict/modelStore';
import type { ModelUploadArgs } from '../args';
import type { Output } from '../output';
import { localClientEnv } from '../target';

/**
 * `pipeline model upload`: validates a model folder's manifest and puts it at
 * `s3://<models bucket>/<name>/<version>/`. `--name` / `--version` override (and are written into)
 * the manifest. The local stack by default, or wherever AWS_ENDPOINT_URL_S3 points; real AWS with --aws.
 */
export async function runModelUpload(args: ModelUploadArgs, output: Output): Promise<number> {
  const files = await readModelDirectory(args.dir);
  const manifest = {
    ...parseManifest(files.manifestText),
    ...(args.name && { name: args.name }),
    ...(args.version && { version: args.version }),
  };
  const bucket = args.bucket ?? process.env.MODELS_BUCKET ?? declaredConfig.local.buckets.models;
  const s3 = createS3Client(args.aws ? process.env : localClientEnv().clientEnv);
  const location = { bucket, prefix: `${manifest.name}/${manifest.version}/` };
  try {
    await uploadModelFiles(s3, location, { model: files.model, manifestText: `${JSON.stringify(manifest, null, 2)}\n` });
  } finally {
    s3.destroy();
  }
  const uri = `s3://${location.bucket}/${location.prefix}`;
  output.out(JSON.stringify({ ok: true, uri, name: manifest.name, version: manifest.version, bytes: files.model.length }));
  output.err(
    `Model uploaded. To make it active: MODEL_URI=${uri} (locally), or on AWS: aws ssm put-parameter --overwrite --name /<service>/<stage>/model-uri --value ${uri}`,
  );
  return 0;
}
