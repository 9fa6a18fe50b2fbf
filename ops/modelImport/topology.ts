/**
 * A Keras model topology (the `modelTopology` of a TF.js Layers model.json) as a graph of layer
 * calls: Sequential models and functional ones (class Model or Functional, Keras 2's
 * `inbound_nodes`), with or without Keras's `model_config` wrapper.
 */
import { ModelImportError } from './errors';

export type Json = Record<string, unknown>;

/** A layer as the topology declares it. */
export interface KerasLayer {
  name: string;
  className: string;
  config: Json;
}

/** One application of a layer to its inputs; a shared layer has several. */
export interface LayerCall {
  layer: KerasLayer;
  /** Which of the layer's calls (Keras's node index). */
  index: number;
  /** Keys of the tensors it consumes. */
  inputs: string[];
  /** Key of the tensor it produces (one output per call). */
  output: string;
}

export interface ModelTopology {
  name: string;
  /** The input layer: name and Keras shape without the batch axis (null for a free size). */
  input: { name: string; shape: Array<number | null> };
  /** Every call, keyed by the tensor it produces. */
  calls: Map<string, LayerCall>;
  /** Key of the model's output tensor. */
  output: string;
  /** How many calls consume each tensor (plus one for the model output). */
  consumers: Map<string, number>;
}

/** The key of the tensor a layer's call produces. */
export const tensorKey = (layer: string, index: number, tensor = 0) => `${layer}:${index}:${tensor}`;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function readLayer(raw: unknown, where: string): KerasLayer {
  if (!isObject(raw) || typeof raw.class_name !== 'string' || !isObject(raw.config))
    throw new ModelImportError(`${where}: expected a layer with class_name and config, got ${JSON.stringify(raw)?.slice(0, 120)}`);
  const name = typeof raw.name === 'string' ? raw.name : raw.config.name;
  if (typeof name !== 'string' || name === '') throw new ModelImportError(`${where}: a ${raw.class_name} layer has no name`);
  return { name, className: raw.class_name, config: raw.config };
}

function batchInputShape(layer: KerasLayer): Array<number | null> | undefined {
  const shape = layer.config.batch_input_shape ?? layer.config.batchInputShape;
  if (Array.isArray(shape)) return shape.slice(1) as Array<number | null>;
  const inputShape = layer.config.input_shape ?? layer.config.inputShape;
  return Array.isArray(inputShape) ? (inputShape as Array<number | null>) : undefined;
}

function inputOf(layer: KerasLayer): { name: string; shape: Array<number | null> } {
  const shape = batchInputShape(layer);
  if (!shape) throw new ModelImportError('the input layer declares no batch_input_shape', layer);
  const dtype = layer.config.dtype ?? 'float32';
  if (dtype !== 'float32') throw new ModelImportError(`input dtype ${dtype} (only float32 inputs are imported)`, layer);
  return { name: layer.name, shape };
}

function countConsumers(calls: Map<string, LayerCall>, output: string): Map<string, number> {
  const consumers = new Map<string, number>([[output, 1]]);
  for (const call of calls.values()) for (const input of call.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  return consumers;
}

function sequential(name: string, rawLayers: unknown[]): ModelTopology {
  const layers = rawLayers.map((raw, i) => readLayer(raw, `layer ${i}`));
  if (layers.length === 0) throw new ModelImportError('the Sequential model has no layers');
  let previous: string;
  let input: ModelTopology['input'];
  const calls = new Map<string, LayerCall>();
  if (layers[0].className === 'InputLayer') {
    input = inputOf(layers[0]);
    layers.shift();
  } else {
    // Sequential models built without tf.input carry the shape on their first layer.
    input = { ...inputOf(layers[0]), name: `${layers[0].name}_input` };
  }
  previous = tensorKey(input.name, 0);
  for (const layer of layers) {
    const output = tensorKey(layer.name, 0);
    calls.set(output, { layer, index: 0, inputs: [previous], output });
    previous = output;
  }
  return { name, input, calls, output: previous, consumers: countConsumers(calls, previous) };
}

/** [[layer, node, tensor], ...] as Keras 2 writes input_layers/output_layers. */
function endpoints(raw: unknown, what: string): Array<[string, number, number]> {
  if (!Array.isArray(raw) || raw.length === 0) throw new ModelImportError(`the functional model has no ${what}`);
  // A single endpoint may be written unwrapped: ["name", 0, 0].
  const list = typeof raw[0] === 'string' ? [raw] : raw;
  return list.map((item) => {
    if (!Array.isArray(item) || typeof item[0] !== 'string') throw new ModelImportError(`unreadable ${what}: ${JSON.stringify(raw)}`);
    return [item[0], Number(item[1] ?? 0), Number(item[2] ?? 0)];
  });
}

function functional(config: Json): ModelTopology {
  const name = typeof config.name === 'string' ? config.name : 'model';
  if (!Array.isArray(config.layers)) throw new ModelImportError('the functional model has no layers list');
  const calls = new Map<string, LayerCall>();
  let input: ModelTopology['input'] | undefined;
  const inputs = endpoints(config.input_layers, 'input_layers');
  const outputs = endpoints(config.output_layers, 'output_layers');
  if (inputs.length !== 1) throw new ModelImportError(`the model has ${inputs.length} inputs; only single-input models are imported`);
  if (outputs.length !== 1) throw new ModelImportError(`the model has ${outputs.length} outputs; only single-output models are imported`);
  for (const [i, raw] of config.layers.entries()) {
    const layer = readLayer(raw, `layer ${i}`);
    const nodes = (raw as Json).inbound_nodes;
    if (layer.className === 'InputLayer') {
      if (layer.name === inputs[0][0]) input = inputOf(layer);
      continue;
    }
    if (!Array.isArray(nodes)) throw new ModelImportError('no inbound_nodes list', layer);
    for (const [index, node] of nodes.entries()) {
      if (!Array.isArray(node))
        throw new ModelImportError('inbound node in a format other than Keras 2 ([[layer, node, tensor, kwargs], ...])', layer);
      const callInputs = node.map((edge) => {
        if (!Array.isArray(edge) || typeof edge[0] !== 'string')
          throw new ModelImportError(`unreadable inbound node ${JSON.stringify(node)}`, layer);
        if (isObject(edge[3]) && Object.keys(edge[3]).length > 0)
          throw new ModelImportError(`call arguments ${JSON.stringify(edge[3])} are not supported`, layer);
        return tensorKey(edge[0], Number(edge[1] ?? 0), Number(edge[2] ?? 0));
      });
      const output = tensorKey(layer.name, index);
      calls.set(output, { layer, index, inputs: callInputs, output });
    }
  }
  if (!input) throw new ModelImportError(`input layer "${inputs[0][0]}" is not among the layers`);
  const output = tensorKey(...outputs[0]);
  if (!calls.has(output)) throw new ModelImportError(`output "${outputs[0][0]}" is not produced by any layer`);
  return { name, input, calls, output, consumers: countConsumers(calls, output) };
}

/** Reads a `modelTopology` object (as in model.json). */
export function parseTopology(modelTopology: unknown): ModelTopology {
  if (!isObject(modelTopology)) throw new ModelImportError('modelTopology is not an object');
  const model = isObject(modelTopology.model_config) ? modelTopology.model_config : modelTopology;
  const className = model.class_name;
  if (className === 'Sequential') {
    const config = model.config;
    if (Array.isArray(config)) return sequential('sequential', config);
    if (isObject(config) && Array.isArray(config.layers)) return sequential(String(config.name ?? 'sequential'), config.layers);
    throw new ModelImportError('the Sequential model has no layers list');
  }
  if (className === 'Model' || className === 'Functional') {
    if (!isObject(model.config)) throw new ModelImportError(`the ${className} has no config`);
    return functional(model.config);
  }
  throw new ModelImportError(`model class ${JSON.stringify(className)} (expected Sequential, Model or Functional)`);
}
