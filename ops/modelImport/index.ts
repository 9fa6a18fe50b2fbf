/**
 * TF.js Layers -> ONNX importer: an operator tool (scripts and the CLI use it), never loaded by
 * anything that runs in Lambda.
 */
export { type ConvertedModel, type ConvertOptions, convertLayersModel, type LayersModelJson } from './convert';
export { ModelImportError } from './errors';
export { type ImportedModel, importTfjsModel, type ManifestFields, TFJS_IMAGE_INPUT } from './importModel';
export { type ReadOptions, readTfjsLayersModel, type TfjsLayersModel } from './loader';
export { decodeWeights, type WeightData, type WeightSpec, type WeightsGroup } from './weights';
