/**
 * Converts the trained tfjs demo CNN into an ONNX graph. tfjs computes in NHWC; the exported graph
 * takes NCHW (what `preprocess` produces for a manifest with layout NCHW and what ONNX's Conv
 * expects), so kernels are transposed from HWIO to OIHW. Global average pooling removes the
 * spatial axes before the classifier, so no other layout change is needed.
 *
 * Only the layers the demo CNN uses are supported; anything else is refused by name rather than
 * exported wrongly.
 */
import type * as tf from '@tensorflow/tfjs';
import { type GraphValue, hwioToOihw, OnnxGraphBuilder, samePads } from '../../ops/modelImport/onnxGraph';

interface LayerConfig {
  activation?: string;
  strides?: number | number[];
  padding?: string;
  kernelSize?: number | number[];
  dilationRate?: number | number[];
}

const pair = (value: number | number[] | undefined, fallback: number): [number, number] =>
  value === undefined ? [fallback, fallback] : Array.isArray(value) ? [value[0], value[1] ?? value[0]] : [value, value];

const values = (tensor: tf.Tensor) => tensor.dataSync() as Float32Array;

export interface ExportedModel {
  bytes: Uint8Array;
  parameterCount: number;
}

/** The model as ONNX bytes: input `input.name` [batch, 3, H, W], output `outputName` [batch, classes]. */
export function layersModelToOnnx(model: tf.LayersModel, inputName: string, outputName: string, docString: string): ExportedModel {
  const graph = new OnnxGraphBuilder();
  const [, height, width, channels] = model.inputs[0].shape as number[];
  let current = inputName;
  let classes = 0;
  const lastLayer = model.layers[model.layers.length - 1];
  for (const layer of model.layers) {
    const config = layer.getConfig() as LayerConfig;
    const kind = layer.getClassName();
    if (kind === 'Conv2D') {
      if (pair(config.dilationRate, 1).some((d) => d !== 1)) throw new Error(`${layer.name}: dilated convolutions are not exported`);
      const [kernel, bias] = layer.getWeights();
      const strides = pair(config.strides, 1);
      const [, inH, inW] = (layer.input as tf.SymbolicTensor).shape as number[];
      const kernelShape = kernel.shape as [number, number, number, number];
      const pads =
        config.padding === 'same'
          ? samePads(inH, inW, [kernelShape[0], kernelShape[1]], strides)
          : ([0, 0, 0, 0] as [number, number, number, number]);
      if (config.padding !== 'same' && config.padding !== 'valid')
        throw new Error(`${layer.name}: padding ${config.padding} is not exported`);
      current = graph.conv(current, {
        weight: hwioToOihw(values(kernel), kernelShape),
        bias: bias ? values(bias) : undefined,
        strides,
        pads,
      });
    } else if (kind === 'GlobalAveragePooling2D') {
      current = graph.flatten(graph.globalAveragePool(current));
    } else if (kind === 'Dense') {
      const [kernel, bias] = layer.getWeights();
      if (kernel.rank !== 2) throw new Error(`${layer.name}: expected a 2-d kernel, got [${kernel.shape}]`);
      classes = kernel.shape[1] as number;
      const named = layer === lastLayer && config.activation === 'linear' ? outputName : undefined;
      current = graph.gemm(current, { dims: kernel.shape, values: values(kernel) }, bias ? values(bias) : new Float32Array(classes), named);
    } else {
      throw new Error(`${layer.name}: layer type ${kind} is not exported`);
    }
    switch (config.activation ?? 'linear') {
      case 'linear':
        break;
      case 'relu':
        current = graph.relu(current);
        break;
      case 'softmax':
        current = graph.softmax(current, layer === lastLayer ? outputName : undefined);
        break;
      default:
        throw new Error(`${layer.name}: activation ${config.activation} is not exported`);
    }
  }
  if (current !== outputName) throw new Error(`the last layer must be Dense (softmax or linear), got ${lastLayer.getClassName()}`);
  const input: GraphValue = { name: inputName, dims: ['batch', channels, height, width] };
  const output: GraphValue = { name: outputName, dims: ['batch', classes] };
  return { bytes: graph.encode(model.name, input, output, docString), parameterCount: graph.parameterCount };
}
