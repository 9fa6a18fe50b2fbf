import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { headObjectMetadata } from '../shared/storage';

/** Where the sample images referenced by events/*.json live (see events/samples/README.md). */
export const SAMPLES_DIR = path.resolve(__dirname, '..', 'events', 'samples');

/** Object keys in the uploads bucket that the sample events name, and the file each is seeded from. */
export const SAMPLE_OBJECTS: readonly { key: string; file: string }[] = [
  { key: 'samples/landscape.jpg', file: 'landscape.jpg' },
  { key: 'samples/my photo+1 ü.jpg', file: 'landscape.jpg' },
  { key: 'samples/corrupt.png', file: 'corrupt.png' },
];

const exists = async (s3: S3Client, bucket: string, key: string) => (await headObjectMetadata(s3, bucket, key)) !== undefined;

/** Puts each sample that is not in the bucket yet; returns the keys it wrote. Idempotent. */
export async function seedSamples(s3: S3Client, bucket: string): Promise<string[]> {
  const written: string[] = [];
  for (const { key, file } of SAMPLE_OBJECTS) {
    if (await exists(s3, bucket, key)) continue;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path.join(SAMPLES_DIR, file)) }));
    written.push(key);
  }
  return written;
}

/**
 * Where a committed model lives, laid out as in the models bucket: `models/<name>/<version>/model.onnx`
 * and `manifest.json` become `s3://models/<name>/<version>/...` (pipeline.config.json's prediction.modelUri).
 */
export const MODELS_DIR = path.resolve(__dirname, '..', 'models');

async function filesUnder(directory: string, prefix = ''): Promise<{ key: string; file: string }[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: { key: string; file: string }[] = [];
  for (const entry of entries) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(file, `${prefix}${entry.name}/`)));
    else if (entry.isFile() && !entry.name.startsWith('.')) files.push({ key: `${prefix}${entry.name}`, file });
  }
  return files;
}

/** Copies every file under `directory` into the bucket under the same relative key, when missing. */
export async function seedDirectory(s3: S3Client, bucket: string, directory: string): Promise<string[]> {
  const written: string[] = [];
  for (const { key, file } of await filesUnder(directory)) {
    if (await exists(s3, bucket, key)) continue;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }));
    written.push(key);
  }
  return written;
}
