/**
 * `<prefix>/manifest.json` beside `<prefix>/model.onnx`: what the model expects and what its
 * outputs mean. Any ImageNet-style classifier works once it has one.
 */
export interface ModelManifest {
  name: string;
  version: string;
  /** Name of the graph's image input tensor. */
  inputName: string;
  width: number;
  height: number;
  layout: 'NCHW' | 'NHWC';
  channelOrder: 'RGB' | 'BGR';
  /** Pixel values are divided by `scale` (255 for [0,1] inputs, 1 for raw 0-255), then normalised per channel: (v / scale - mean) / std. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** How the image is fitted to width x height: `cover` crops the centre (ImageNet style), `fill` stretches. */
  fit: 'cover' | 'fill';
  /** Name of the graph's class-score output tensor. */
  outputName: string;
  outputType: 'logits' | 'probabilities';
  labels: string[];
}

export class ManifestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`Invalid model manifest field "${field}": ${message}`);
    this.name = 'ManifestError';
  }
}

import { checkNumber, checkOneOf } from '../validate';

type Json = Record<string, unknown>;

const nonEmptyString = (manifest: Json, field: string): string => {
  const value = manifest[field];
  if (typeof value !== 'string' || value.trim() === '')
    throw new ManifestError(field, `expected a non-empty string, got ${JSON.stringify(value)}`);
  return value;
};

const positiveNumber = (manifest: Json, field: string, integer: boolean, max?: number): number =>
  checkNumber(manifest[field], { integer, above: 0, max }, (problem) => new ManifestError(field, problem));

const oneOf = <T extends string>(manifest: Json, field: string, allowed: readonly T[], fallback?: T): T =>
  checkOneOf(manifest[field] ?? fallback, allowed, (problem) => new ManifestError(field, problem));

const triple = (manifest: Json, field: string, positive: boolean): [number, number, number] => {
  const value = manifest[field];
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    !value.every((item) => typeof item === 'number' && Number.isFinite(item) && (!positive || item > 0))
  ) {
    throw new ManifestError(field, `expected 3 ${positive ? 'positive ' : ''}numbers (one per channel), got ${JSON.stringify(value)}`);
  }
  return value as [number, number, number];
};

/** Validates a parsed manifest; every error names the field at fault. */
export function validateManifest(raw: unknown): ModelManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ManifestError('(root)', 'expected a JSON object');
  const manifest = raw as Json;
  const labels = manifest.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((label) => typeof label === 'string' && label !== '')) {
    throw new ManifestError('labels', 'expected an array of at least 2 non-empty strings');
  }
  return {
    name: nonEmptyString(manifest, 'name'),
    version: String(manifest.version ?? '') === '' ? nonEmptyString(manifest, 'version') : String(manifest.version),
    inputName: nonEmptyString(manifest, 'inputName'),
    width: positiveNumber(manifest, 'width', true, 4096),
    height: positiveNumber(manifest, 'height', true, 4096),
    layout: oneOf(manifest, 'layout', ['NCHW', 'NHWC'] as const),
    channelOrder: oneOf(manifest, 'channelOrder', ['RGB', 'BGR'] as const),
    scale: positiveNumber(manifest, 'scale', false),
    mean: triple(manifest, 'mean', false),
    std: triple(manifest, 'std', true),
    fit: oneOf(manifest, 'fit', ['cover', 'fill'] as const, 'cover'),
    outputName: nonEmptyString(manifest, 'outputName'),
    outputType: oneOf(manifest, 'outputType', ['logits', 'probabilities'] as const),
    labels: labels as string[],
  };
}

export function parseManifest(text: string): ModelManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ManifestError('(root)', `not JSON: ${(error as Error).message}`);
  }
  return validateManifest(parsed);
}
