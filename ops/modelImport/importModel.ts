/**
 * A TF.js Layers model folder to a model folder the predict function loads: `model.onnx` and a
 * validated `manifest.json`. Everything is converted and checked in memory first, so a refused
 * model leaves the target folder untouched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ModelManifest, validateManifest } from '../../shared/predict/manifest';
import { type ConvertedModel, type ConvertOptions, convertLayersModel } from './convert';
import { ModelImportError } from './errors';
import { readTfjsLayersModel } from './loader';

/** The manifest fields the graph cannot tell: what the pixels must be and what the classes mean. */
export type ManifestFields = Omit<ModelManifest, 'inputName' | 'outputName' | 'width' | 'height' | 'layout' | 'labels'> & {
  labels: string[];
};

/** How TF.js image models usually take their pixels: RGB values / 255, no mean or std, outputs ending in a softmax. */
export const TFJS_IMAGE_INPUT = {
  channelOrder: 'RGB',
  scale: 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  outputType: 'probabilities',
} as const satisfies Partial<ManifestFields>;

export interface ImportedModel {
  converted: ConvertedModel;
  manifest: ModelManifest;
  files: string[];
}

export function importTfjsModel(sourceDir: string, targetDir: string, fields: ManifestFields, options: ConvertOptions = {}): ImportedModel {
  const { model, weightData } = readTfjsLayersModel(sourceDir);
  const converted = convertLayersModel(model, weightData, { ...options, labels: fields.labels });
  if (converted.layout !== 'NHWC' || converted.inputShape[2] !== 3)
    throw new ModelImportError(`the model takes [${converted.inputShape}], not an RGB image (H x W x 3)`);
  const manifest = validateManifest({
    ...fields,
    inputName: converted.inputName,
    outputName: converted.outputName,
    height: converted.inputShape[0],
    width: converted.inputShape[1],
    layout: 'NHWC',
  });
  mkdirSync(targetDir, { recursive: true });
  const files = [path.join(targetDir, 'model.onnx'), path.join(targetDir, 'manifest.json')];
  writeFileSync(files[0], converted.onnx);
  writeFileSync(files[1], `${JSON.stringify(manifest, null, 2)}\n`);
  return { converted, manifest, files };
}
