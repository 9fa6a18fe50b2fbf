/**
 * TF.js Layers model (model.json's topology and weights manifest, plus the weight bytes) to an
 * ONNX graph (IR 8, opset 13) that takes the image as TF.js does: [batch, H, W, C] float32. The
 * graph transposes once to NCHW for ONNX's convolutions and keeps that layout until a layer
 * needs Keras's element order back (see layers.ts).
 *
 * Pure: bytes in, bytes out. Any layer or option it cannot reproduce exactly is refused with a
 * ModelImportError naming the layer, before a byte of ONNX exists.
 */
import { ModelImportError } from './errors';
import {
  batchNormAffine,
  type ChannelAffine,
  EMITTERS,
  type EmitContext,
  FOLDS_BATCH_NORM,
  isImage,
  TO_NCHW,
  TO_NHWC,
  type Value,
} from './layers';
import { OnnxGraphBuilder } from './onnxGraph';
import { type KerasLayer, type LayerCall, type ModelTopology, parseTopology, tensorKey } from './topology';
import { type DecodedWeight, decodeWeights, type WeightData, type WeightSpec, type WeightsGroup } from './weights';

/** model.json as TF.js writes it (`weightsManifest`), or a save handler's artifacts (`weightSpecs`). */
export interface LayersModelJson {
  modelTopology: unknown;
  weightsManifest?: WeightsGroup[];
  weightSpecs?: WeightSpec[];
}

export interface ConvertOptions {
  /** Name of the graph's input; default `input`. */
  inputName?: string;
  /** Name of the graph's output; default `output`. */
  outputName?: string;
  /** Image size when the model leaves it free (batch_input_shape [null, null, null, 3]). */
  inputSize?: { height: number; width: number };
  /** Class names, one per output unit: checked against the output's size and passed through. */
  labels?: string[];
  /** Stored in the ONNX file's doc_string. */
  docString?: string;
}

export interface ConvertedModel {
  onnx: Uint8Array;
  inputName: string;
  outputName: string;
  /** Without the batch axis, in the graph's layout: [H, W, C] for an image (NHWC). */
  inputShape: number[];
  layout: 'NHWC' | 'flat';
  /** Without the batch axis, as Keras gives it. */
  outputShape: number[];
  labels?: string[];
  /** Learned values written to the graph (after batch normalisations are folded). */
  parameterCount: number;
  /** Keras layers read, by class. */
  layerCounts: Record<string, number>;
  /** Batch normalisations folded into the convolution before them. */
  foldedBatchNorms: number;
}

const activationOf = (layer: KerasLayer) => layer.config.activation ?? 'linear';

/** Batch normalisations that can live in the weights of the convolution call before them: conv output key -> BN call. */
function foldableBatchNorms(topology: ModelTopology): Map<string, LayerCall> {
  const folds = new Map<string, LayerCall>();
  for (const call of topology.calls.values()) {
    if (call.layer.className !== 'BatchNormalization' || call.inputs.length !== 1) continue;
    const producer = topology.calls.get(call.inputs[0]);
    if (!producer || !FOLDS_BATCH_NORM.has(producer.layer.className)) continue;
    // The conv's own output must be seen by nothing else, and nothing may run between the two.
    if (topology.consumers.get(producer.output) !== 1 || activationOf(producer.layer) !== 'linear') continue;
    folds.set(producer.output, call);
  }
  return folds;
}

function weightLookup(weights: Map<string, DecodedWeight>, used: Set<string>) {
  return (layer: KerasLayer, param: string, required = false): DecodedWeight | undefined => {
    let key = `${layer.name}/${param}`;
    if (!weights.has(key)) {
      // Keras nests names under a scope in some exports: model/layer/kernel.
      const nested = [...weights.keys()].filter((name) => name.endsWith(`/${layer.name}/${param}`));
      if (nested.length === 1) key = nested[0];
    }
    const weight = weights.get(key);
    if (!weight && required) throw new ModelImportError(`weight "${layer.name}/${param}" is not in the weights manifest`, layer);
    if (weight) used.add(key);
    return weight;
  };
}

function staticInputShape(topology: ModelTopology, options: ConvertOptions): number[] {
  const shape = [...topology.input.shape];
  if (shape.length === 3 && options.inputSize) {
    shape[0] ??= options.inputSize.height;
    shape[1] ??= options.inputSize.width;
  }
  if (!shape.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0))
    throw new ModelImportError(
      `input "${topology.input.name}" has shape [${shape.map((d) => d ?? 'null')}]: every size must be known (pass inputSize for a free image size)`,
    );
  return shape;
}

function manifestGroups(model: LayersModelJson): WeightsGroup[] {
  if (Array.isArray(model.weightsManifest)) return model.weightsManifest;
  if (Array.isArray(model.weightSpecs)) return [{ paths: [], weights: model.weightSpecs }];
  return [];
}

function emitterFor(layer: KerasLayer) {
  const emit = EMITTERS[layer.className];
  if (!emit)
    throw new ModelImportError(
      `layer type ${layer.className} is not supported (supported: ${Object.keys(EMITTERS).sort().join(', ')})`,
      layer,
    );
  return emit;
}

export function convertLayersModel(model: LayersModelJson, weightData: WeightData, options: ConvertOptions = {}): ConvertedModel {
  const topology = parseTopology(model.modelTopology);
  const weights = decodeWeights(manifestGroups(model), weightData);
  // Every layer class is checked before any is converted, so the first error is not one of many.
  for (const call of topology.calls.values()) emitterFor(call.layer);
  const inputShape = staticInputShape(topology, options);
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';

  const graph = new OnnxGraphBuilder();
  const used = new Set<string>();
  const folds = foldableBatchNorms(topology);
  const foldedCalls = new Set([...folds.values()].map((call) => call.output));
  const affines = new Map<string, ChannelAffine>();
  const weight = weightLookup(weights, used);
  const consumers = new Map<string, string[]>();
  for (const call of topology.calls.values())
    for (const input of call.inputs) consumers.set(input, [...(consumers.get(input) ?? []), call.layer.className]);
  const ctx: EmitContext = {
    graph,
    weight,
    foldedInto: (call) => affines.get(call.output),
    consumerClasses: (call) => consumers.get(call.output) ?? [],
  };
  const layerCounts: Record<string, number> = {};

  const values = new Map<string, Value>();
  const input: Value = { name: inputName, shape: inputShape };
  values.set(tensorKey(topology.input.name, 0), isImage(input) ? { name: graph.transpose(inputName, TO_NCHW), shape: inputShape } : input);

  const inProgress = new Set<string>();
  const resolve = (key: string): Value => {
    const known = values.get(key);
    if (known) return known;
    const call = topology.calls.get(key);
    if (!call) throw new ModelImportError(`tensor ${key} is consumed but no layer produces it`);
    if (inProgress.has(key)) throw new ModelImportError('the layer graph has a cycle', call.layer);
    inProgress.add(key);
    const { layer } = call;
    let value: Value;
    if (foldedCalls.has(key)) {
      // Its convolution already applied it.
      value = resolve(call.inputs[0]);
    } else {
      const emit = emitterFor(layer);
      const inputs = call.inputs.map(resolve);
      const bn = folds.get(key);
      if (bn) {
        const channels = Number(layer.config.filters ?? 0) || inputs[0].shape[2] * Number(layer.config.depth_multiplier ?? 1);
        affines.set(key, batchNormAffine(ctx, bn.layer, channels, 3));
        layerCounts.BatchNormalization = (layerCounts.BatchNormalization ?? 0) + 1;
      }
      value = emit(ctx, call, inputs);
    }
    if (!foldedCalls.has(key)) layerCounts[layer.className] = (layerCounts[layer.className] ?? 0) + 1;
    inProgress.delete(key);
    values.set(key, value);
    return value;
  };

  const result = resolve(topology.output);
  const final = isImage(result) ? graph.transpose(result.name, TO_NHWC) : result.name;
  graph.rename(final, outputName);

  const outputUnits = result.shape.reduce((a, b) => a * b, 1);
  if (options.labels && (result.shape.length !== 1 || options.labels.length !== outputUnits))
    throw new ModelImportError(`${options.labels.length} labels for an output of shape [${result.shape}]`);
  const unused = [...weights.keys()].filter((name) => !used.has(name));
  if (unused.length > 0 && used.size === 0) throw new ModelImportError(`no weight of the manifest matches a layer (e.g. "${unused[0]}")`);

  const onnx = graph.encode(
    topology.name,
    { name: inputName, dims: ['batch', ...inputShape] },
    { name: outputName, dims: ['batch', ...result.shape] },
    options.docString ?? `Imported from the TF.js Layers model ${topology.name}`,
    'image-pipeline ops/modelImport',
  );
  return {
    onnx,
    inputName,
    outputName,
    inputShape,
    layout: isImage(input) ? 'NHWC' : 'flat',
    outputShape: result.shape,
    labels: options.labels,
    parameterCount: graph.parameterCount,
    layerCounts,
    foldedBatchNorms: folds.size,
  };
}
