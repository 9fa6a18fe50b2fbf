import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface ModelFiles {
  model: Uint8Array;
  manifestText: string;
  /** Changes whenever either file changes: the model's and the manifest's ETags together. */
  fingerprint: string;
}

export interface S3Location {
  bucket: string;
  prefix: string;
}

export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';

/** `s3://bucket/prefix/` -> bucket and prefix (the URI is validated by the configuration). */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1], prefix: match[2] && !match[2].endsWith('/') ? `${match[2]}/` : match[2] };
}

const fingerprintOf = (modelETag?: string, manifestETag?: string) => `${modelETag ?? '?'}+${manifestETag ?? '?'}`;

export async function fetchModelFiles(s3: S3Client, location: S3Location): Promise<ModelFiles> {
  const get = (file: string) => s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.prefix + file }));
  const [model, manifest] = await Promise.all([get(MODEL_FILE), get(MANIFEST_FILE)]);
  const body = (response: typeof model, file: string) => {
    if (!response.Body) throw new Error(`${location.prefix}${file} came back without a body`);
    return response.Body;
  };
  return {
    model: await body(model, MODEL_FILE).transformToByteArray(),
    manifestText: await body(manifest, MANIFEST_FILE).transformToString('utf8'),
    fingerprint: fingerprintOf(model.ETag, manifest.ETag),
  };
}

/** Two HEAD requests: enough to notice a new model without downloading it. */
export async function fetchModelFingerprint(s3: S3Client, location: S3Location): Promise<string> {
  const head = (file: string) => s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.prefix + file }));
  const [model, manifest] = await Promise.all([head(MODEL_FILE), head(MANIFEST_FILE)]);
  return fingerprintOf(model.ETag, manifest.ETag);
}

/** A model folder on disk (the CLI's `--model <dir>`). */
export async function readModelDirectory(directory: string): Promise<ModelFiles> {
  // One after the other, so a missing folder is always reported as its missing graph.
  const model = await readFile(path.join(directory, MODEL_FILE));
  const manifestText = await readFile(path.join(directory, MANIFEST_FILE), 'utf8');
  return { model, manifestText, fingerprint: `file:${directory}` };
}

/** Writes a model; the manifest goes last, so a reader that sees the new manifest also finds the new graph. */
export async function uploadModelFiles(
  s3: S3Client,
  location: S3Location,
  files: Pick<ModelFiles, 'model' | 'manifestText'>,
): Promise<void> {
  const put = (file: string, body: Uint8Array | string, contentType: string) =>
    s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.prefix + file, Body: body, ContentType: contentType }));
  await put(MODEL_FILE, files.model, 'application/octet-stream');
  await put(MANIFEST_FILE, files.manifestText, 'application/json');
}
