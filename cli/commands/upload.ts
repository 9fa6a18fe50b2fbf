import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientOptions } from '../../shared/clients';
import { declaredConfig, loadConfig } from '../../shared/config';
import { isOutputOf, thumbnailKeys } from '../../shared/outputs';
import type { UploadArgs } from '../args';
import { connectionFailure, EXIT, LOCAL_STACK_HINT, reportFailure } from '../errors';
import type { Output } from '../output';
import { localClientEnv } from '../target';

const WAIT_TIMEOUT_MS = 60_000;

type Env = Record<string, string | undefined>;

/** Where uploads go: real AWS with --aws, else AWS_ENDPOINT_URL_S3 when set, else the local stack. */
function uploadTarget(args: Pick<UploadArgs, 'aws' | 'bucket'>, env: Env = process.env) {
  const bucket = args.bucket ?? env.UPLOADS_BUCKET ?? (args.aws ? undefined : declaredConfig.local.buckets.uploads);
  if (args.aws) return { bucket, endpoint: 'AWS', local: false, clientEnv: env };
  if (env.AWS_ENDPOINT_URL_S3) return { bucket, endpoint: env.AWS_ENDPOINT_URL_S3, local: false, clientEnv: env };
  const { s3Endpoint, clientEnv } = localClientEnv(env);
  return { bucket, endpoint: s3Endpoint, local: true, clientEnv };
}

async function thumbnailsExist(s3: S3Client, bucket: string, keys: string[], eTag: string): Promise<boolean> {
  for (const key of keys) {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (!isOutputOf(head.Metadata, eTag)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * `pipeline upload`: puts files into the uploads bucket, which starts the pipeline for each.
 * Exit codes: 0 uploaded (with --wait: and every thumbnail written), 1 failed.
 */
export async function runUpload(args: UploadArgs, output: Output): Promise<number> {
  const target = uploadTarget(args);
  if (!target.bucket) {
    output.err('pipeline upload: with --aws, name the bucket with --bucket or UPLOADS_BUCKET');
    return EXIT.failed;
  }
  if (args.aws) {
    // The SDK reads endpoint overrides from the environment by itself; --aws means the real service.
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_ENDPOINT_URL;
  }
  const s3 = new S3Client({ ...s3ClientOptions(target.clientEnv), maxAttempts: 2 });
  const uploaded: { key: string; eTag: string; started: number }[] = [];
  try {
    for (const file of args.files) {
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch (error) {
        reportFailure(output, 'upload', error, `cannot read ${file}`);
        return EXIT.failed;
      }
      const key = `${args.prefix}${path.basename(file)}`;
      const started = Date.now();
      try {
        const response = await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
        uploaded.push({ key, eTag: (response.ETag ?? '').replace(/"/g, ''), started });
      } catch (error) {
        const where = `could not upload ${file} to s3://${target.bucket}/${key} at ${target.endpoint}`;
        if (connectionFailure(error) && target.local) output.err(`pipeline upload: ${where}: ${LOCAL_STACK_HINT}`);
        else reportFailure(output, 'upload', error, where);
        return EXIT.failed;
      }
      output.out(`s3://${target.bucket}/${key}`);
    }
    if (!args.wait) return EXIT.ok;

    // The sizes and format the stack runs with (its state file), not only this shell's.
    const config = loadConfig(target.clientEnv);
    const { thumbnails } = config.buckets;
    const deadline = Date.now() + WAIT_TIMEOUT_MS;
    for (const upload of uploaded) {
      const keys = thumbnailKeys(upload.key, config.thumbnails.sizes, config.thumbnails.format);
      while (!(await thumbnailsExist(s3, thumbnails, keys, upload.eTag))) {
        if (Date.now() > deadline) {
          output.err(
            `pipeline upload: no thumbnails for ${upload.key} after ${WAIT_TIMEOUT_MS / 1000} s; if it is not an image it is in the resize DLQ`,
          );
          return EXIT.failed;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      output.err(
        `thumbnails for ${upload.key} ready ${Date.now() - upload.started} ms after the upload started: ${keys.map((key) => `s3://${thumbnails}/${key}`).join(' ')}`,
      );
    }
    return EXIT.ok;
  } finally {
    s3.destroy();
  }
}
