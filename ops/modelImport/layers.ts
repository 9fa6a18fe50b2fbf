/**
 * One ONNX emitter per Keras layer class.
 *
 * Layout: Keras computes in NHWC; ONNX's Conv and pools take NCHW. Inside the graph every image
 * tensor (Keras rank 3 without the batch: H x W x C) is kept NCHW, every other tensor in Keras's
 * own order. A `Value` records the Keras shape, so an emitter knows which case it has, and a
 * layer that depends on the element order (Flatten, Reshape, Dense on images) transposes back to
 * NHWC first: that is what keeps a Dense after Flatten reading its weights in the right order.
 */
import { ModelImportError } from './errors';
import { type FloatTensor, hwioToOihw, type OnnxGraphBuilder, samePads } from './onnxGraph';
import type { KerasLayer, LayerCall } from './topology';
import type { DecodedWeight } from './weights';

/** A tensor in the graph being built: its ONNX name and its Keras shape (no batch axis). */
export interface Value {
  name: string;
  shape: number[];
}

/** Per-channel y = x * scale + shift: an inference-time batch normalisation. */
export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
}

export interface EmitContext {
  graph: OnnxGraphBuilder;
  /** A weight of the layer by its Keras name (kernel, bias, gamma...); undefined when absent and not required. */
  weight(layer: KerasLayer, param: string, required?: boolean): DecodedWeight | undefined;
  /** The batch normalisation folded into this convolution call's output, if any. */
  foldedInto(call: LayerCall): ChannelAffine | undefined;
  /** Classes of the layers that consume this call's output. */
  consumerClasses(call: LayerCall): string[];
}

export type Emitter = (ctx: EmitContext, call: LayerCall, inputs: Value[]) => Value;

type Pads = [number, number, number, number];

export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

export const isImage = (value: Value) => value.shape.length === 3;

const fail = (layer: KerasLayer, message: string): never => {
  throw new ModelImportError(message, layer);
};

// ---- configuration -------------------------------------------------------------------------

function pair(layer: KerasLayer, key: string, fallback?: [number, number]): [number, number] {
  const value = layer.config[key];
  if ((value === undefined || value === null) && fallback) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v) && v > 0)) return [value[0], value[1]];
  return fail(layer, `${key} ${JSON.stringify(value)} is not one or two positive integers`);
}

function channelsLast(layer: KerasLayer) {
  const format = layer.config.data_format ?? 'channels_last';
  if (format !== 'channels_last') fail(layer, `data_format ${format} (only channels_last, TF.js's layout, is imported)`);
}

function singleInput(layer: KerasLayer, inputs: Value[]): Value {
  if (inputs.length !== 1) fail(layer, `expected one input, got ${inputs.length}`);
  return inputs[0];
}

function imageInput(layer: KerasLayer, inputs: Value[]): Value {
  const input = singleInput(layer, inputs);
  if (!isImage(input)) fail(layer, `expected an image input (H x W x C), got shape [${input.shape}]`);
  return input;
}

/** Pads and output size of one spatial axis, as TensorFlow computes them. */
interface Window {
  pads: Pads;
  outH: number;
  outW: number;
}

function window(
  layer: KerasLayer,
  [inH, inW]: number[],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): Window {
  const padding = layer.config.padding ?? 'valid';
  const effective: [number, number] = [(kernel[0] - 1) * dilations[0] + 1, (kernel[1] - 1) * dilations[1] + 1];
  if (padding === 'same') {
    return { pads: samePads(inH, inW, effective, strides), outH: Math.ceil(inH / strides[0]), outW: Math.ceil(inW / strides[1]) };
  }
  if (padding === 'valid') {
    const outH = Math.floor((inH - effective[0]) / strides[0]) + 1;
    const outW = Math.floor((inW - effective[1]) / strides[1]) + 1;
    if (outH < 1 || outW < 1) fail(layer, `a ${effective} window does not fit the ${inH}x${inW} input with padding valid`);
    return { pads: [0, 0, 0, 0], outH, outW };
  }
  return fail(layer, `padding ${JSON.stringify(padding)} (only same and valid are imported)`);
}

function kernelWeight(ctx: EmitContext, layer: KerasLayer, param: string, expected: number[]): DecodedWeight {
  const weight = ctx.weight(layer, param, true)!;
  if (weight.shape.length !== expected.length || weight.shape.some((d, i) => d !== expected[i]))
    fail(layer, `weight ${param} has shape [${weight.shape}], expected [${expected}]`);
  return weight;
}

function biasWeight(ctx: EmitContext, layer: KerasLayer, units: number): Float32Array | undefined {
  if (layer.config.use_bias === false) return undefined;
  const bias = ctx.weight(layer, 'bias', true)!;
  if (bias.values.length !== units) fail(layer, `bias has ${bias.values.length} values for ${units} units`);
  return bias.values;
}

// ---- activations ---------------------------------------------------------------------------

/** Softmax and other per-position reductions run over Keras's last axis: the channel axis (1) of an image. */
const lastAxis = (value: Value) => (isImage(value) ? 1 : -1);

/** A Keras activation by name (as a layer's `activation` or an Activation layer). */
export function activation(ctx: EmitContext, layer: KerasLayer, name: unknown, input: Value): Value {
  const g = ctx.graph;
  const x = input.name;
  const out = (onnxName: string): Value => ({ name: onnxName, shape: input.shape });
  switch (name ?? 'linear') {
    case 'linear':
      return input;
    case 'relu':
      return out(g.relu(x));
    case 'relu6':
      return out(g.clip(x, 0, 6));
    case 'sigmoid':
      return out(g.sigmoid(x));
    case 'tanh':
      return out(g.tanh(x));
    case 'softmax':
      return out(g.softmax(x, undefined, lastAxis(input)));
    case 'elu':
      return out(g.op('Elu', [x]));
    case 'selu':
      return out(g.op('Selu', [x]));
    case 'softplus':
      return out(g.op('Softplus', [x]));
    case 'softsign':
      return out(g.op('Softsign', [x]));
    case 'hard_sigmoid':
      // Keras 2 and TF.js: clip(0.2 x + 0.5, 0, 1), ONNX HardSigmoid's defaults.
      return out(g.op('HardSigmoid', [x]));
    case 'swish':
      return out(g.mul(x, g.sigmoid(x)));
    case 'mish':
      return out(g.mul(x, g.tanh(g.op('Softplus', [x]))));
    default:
      return fail(layer, `activation ${JSON.stringify(name)} is not supported`);
  }
}

// ---- convolutions --------------------------------------------------------------------------

/** Folds y = conv(x) + b followed by y * scale + shift into the convolution's weights and bias. */
function foldAffine(weight: FloatTensor, bias: Float32Array | undefined, affine: ChannelAffine | undefined) {
  if (!affine) return { weight, bias };
  const [outChannels] = weight.dims;
  const perChannel = weight.values.length / outChannels;
  const values = new Float32Array(weight.values.length);
  const folded = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const scale = affine.scale[o];
    for (let i = 0; i < perChannel; i++) values[o * perChannel + i] = weight.values[o * perChannel + i] * scale;
    folded[o] = (bias ? bias[o] : 0) * scale + affine.shift[o];
  }
  return { weight: { dims: weight.dims, values }, bias: folded };
}

/** [kh, kw, channels, multiplier] to ONNX's grouped layout [channels * multiplier, 1, kh, kw]; output channel c * multiplier + m, as TF orders them. */
function depthwiseToOihw(values: Float32Array, [kh, kw, channels, multiplier]: number[]): FloatTensor {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let m = 0; m < multiplier; m++)
          out[((c * multiplier + m) * kh + y) * kw + x] = values[((y * kw + x) * channels + c) * multiplier + m];
  return { dims: [channels * multiplier, 1, kh, kw], values: out };
}

function convGeometry(layer: KerasLayer, input: Value) {
  channelsLast(layer);
  const kernel = pair(layer, 'kernel_size');
  const strides = pair(layer, 'strides', [1, 1]);
  const dilations = pair(layer, 'dilation_rate', [1, 1]);
  if (dilations.some((d) => d > 1) && strides.some((s) => s > 1))
    fail(layer, 'dilation_rate and strides both above 1 (TensorFlow refuses it too)');
  return { kernel, strides, dilations, ...window(layer, input.shape, kernel, strides, dilations) };
}

const conv2d: Emitter = (ctx, call, inputs) => {
  const { layer } = call;
  const input = imageInput(layer, inputs);
  const { kernel, strides, dilations, pads, outH, outW } = convGeometry(layer, input);
  const filters = Number(layer.config.filters);
  if ((layer.config.groups ?? 1) !== 1) fail(layer, `groups ${layer.config.groups} (grouped convolutions are not imported)`);
  const channels = input.shape[2];
  const w = kernelWeight(ctx, layer, 'kernel', [kernel[0], kernel[1], channels, filters]);
  const { weight, bias } = foldAffine(
    hwioToOihw(w.values, [kernel[0], kernel[1], channels, filters]),
    biasWeight(ctx, layer, filters),
    ctx.foldedInto(call),
  );
  const out = ctx.graph.conv(input.name, { weight, bias, strides, pads, dilations });
  return activation(ctx, layer, layer.config.activation, { name: out, shape: [outH, outW, filters] });
};

function depthwise(ctx: EmitContext, layer: KerasLayer, input: Value, param: string, affine: ChannelAffine | undefined, withBias: boolean) {
  const { kernel, strides, dilations, pads, outH, outW } = convGeometry(layer, input);
  const channels = input.shape[2];
  // tfjs leaves depth_multiplier out of a SeparableConv2D's config: the kernel's last axis says it.
  const multiplier = Number(layer.config.depth_multiplier ?? ctx.weight(layer, param, true)!.shape[3]);
  if (!Number.isInteger(multiplier) || multiplier < 1) fail(layer, `depth_multiplier ${layer.config.depth_multiplier}`);
  const w = kernelWeight(ctx, layer, param, [kernel[0], kernel[1], channels, multiplier]);
  const { weight, bias } = foldAffine(
    depthwiseToOihw(w.values, w.shape),
    withBias ? biasWeight(ctx, layer, channels * multiplier) : undefined,
    affine,
  );
  const out = ctx.graph.conv(input.name, { weight, bias, strides, pads, dilations, group: channels });
  return { name: out, shape: [outH, outW, channels * multiplier] };
}

const depthwiseConv2d: Emitter = (ctx, call, inputs) => {
  const { layer } = call;
  const out = depthwise(ctx, layer, imageInput(layer, inputs), 'depthwise_kernel', ctx.foldedInto(call), true);
  return activation(ctx, layer, layer.config.activation, out);
};

/** Depthwise (with the layer's strides and padding), then a 1x1 pointwise convolution carrying the bias. */
const separableConv2d: Emitter = (ctx, call, inputs) => {
  const { layer } = call;
  const spread = depthwise(ctx, layer, imageInput(layer, inputs), 'depthwise_kernel', undefined, false);
  const filters = Number(layer.config.filters);
  const channels = spread.shape[2];
  const w = kernelWeight(ctx, layer, 'pointwise_kernel', [1, 1, channels, filters]);
  const { weight, bias } = foldAffine(
    hwioToOihw(w.values, [1, 1, channels, filters]),
    biasWeight(ctx, layer, filters),
    ctx.foldedInto(call),
  );
  const out = ctx.graph.conv(spread.name, { weight, bias });
  return activation(ctx, layer, layer.config.activation, { name: out, shape: [spread.shape[0], spread.shape[1], filters] });
};

// ---- normalisation -------------------------------------------------------------------------

/** The channel axis a BatchNormalization normalises must be Keras's last. */
function checkChannelAxis(layer: KerasLayer, rank: number) {
  const raw = layer.config.axis ?? -1;
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (axis !== -1 && axis !== rank) fail(layer, `axis ${JSON.stringify(raw)} (only the last, channel axis is imported)`);
}

/** gamma / sqrt(variance + epsilon) and beta - mean * that, per channel. */
export function batchNormAffine(ctx: EmitContext, layer: KerasLayer, channels: number, rank: number): ChannelAffine {
  checkChannelAxis(layer, rank);
  const epsilon = Number(layer.config.epsilon ?? 1e-3);
  const get = (param: string, wanted: boolean) => {
    if (!wanted) return undefined;
    const weight = ctx.weight(layer, param, true)!;
    if (weight.values.length !== channels) fail(layer, `${param} has ${weight.values.length} values for ${channels} channels`);
    return weight.values;
  };
  const gamma = get('gamma', layer.config.scale !== false);
  const beta = get('beta', layer.config.center !== false);
  const mean = get('moving_mean', true)!;
  const variance = get('moving_variance', true)!;
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** A batch normalisation that could not be folded: x * scale + shift, broadcast over the channel axis. */
const batchNormalization: Emitter = (ctx, call, inputs) => {
  const { layer } = call;
  const input = singleInput(layer, inputs);
  const channels = input.shape[input.shape.length - 1];
  const { scale, shift } = batchNormAffine(ctx, layer, channels, input.shape.length);
  const dims = isImage(input) ? [channels, 1, 1] : [channels];
  const g = ctx.graph;
  const scaled = g.mul(input.name, g.weight('bn_scale', { dims, values: Float32Array.from(scale) }));
  return { name: g.add(scaled, g.weight('bn_shift', { dims, values: Float32Array.from(shift) })), shape: input.shape };
};

// ---- activations as layers -----------------------------------------------------------------

const reluLayer: Emitter = (ctx, { layer }, inputs) => {
  const input = singleInput(layer, inputs);
  const slope = Number(layer.config.negative_slope ?? 0);
  const threshold = Number(layer.config.threshold ?? 0);
  if (slope !== 0) fail(layer, `negative_slope ${slope} (only 0 is imported; use LeakyReLU)`);
  if (threshold !== 0) fail(layer, `threshold ${threshold} (only 0 is imported)`);
  const max = layer.config.max_value;
  if (max === undefined || max === null) return { name: ctx.graph.relu(input.name), shape: input.shape };
  if (typeof max !== 'number' || !(max > 0)) fail(layer, `max_value ${JSON.stringify(max)} is not a positive number`);
  return { name: ctx.graph.clip(input.name, 0, max as number), shape: input.shape };
};

const leakyRelu: Emitter = (ctx, { layer }, inputs) => {
  const input = singleInput(layer, inputs);
  return { name: ctx.graph.leakyRelu(input.name, Number(layer.config.alpha ?? 0.3)), shape: input.shape };
};

const activationLayer: Emitter = (ctx, { layer }, inputs) => activation(ctx, layer, layer.config.activation, singleInput(layer, inputs));

const softmaxLayer: Emitter = (ctx, { layer }, inputs) => {
  const input = singleInput(layer, inputs);
  const axis = layer.config.axis ?? -1;
  if (axis !== -1 && axis !== input.shape.length) fail(layer, `axis ${JSON.stringify(axis)} (only the last axis is imported)`);
  return activation(ctx, layer, 'softmax', input);
};

// ---- merging -------------------------------------------------------------------------------

function sameShapes(layer: KerasLayer, inputs: Value[]) {
  if (inputs.length < 2) fail(layer, `expected at least two inputs, got ${inputs.length}`);
  for (const input of inputs)
    if (input.shape.join() !== inputs[0].shape.join())
      fail(layer, `inputs of shapes ${inputs.map((v) => `[${v.shape}]`).join(', ')} (broadcasting is not imported)`);
}

const elementwise =
  (
    combine: (g: OnnxGraphBuilder, a: string, b: string) => string,
    finish?: (g: OnnxGraphBuilder, x: string, count: number) => string,
  ): Emitter =>
  (ctx, { layer }, inputs) => {
    sameShapes(layer, inputs);
    let name = inputs[0].name;
    for (const input of inputs.slice(1)) name = combine(ctx.graph, name, input.name);
    return { name: finish ? finish(ctx.graph, name, inputs.length) : name, shape: inputs[0].shape };
  };

/** Keras's axis (counting the batch as 0, or negative from the end) to the axis of the tensor inside the graph. */
function graphAxis(layer: KerasLayer, raw: unknown, rank: number): number {
  const full = rank + 1;
  const axis = typeof raw === 'number' && Number.isInteger(raw) ? (raw < 0 ? raw + full : raw) : Number.NaN;
  if (!(axis >= 1 && axis < full)) return fail(layer, `axis ${JSON.stringify(raw)} (the batch axis or out of range)`);
  return rank === 3 ? [0, 2, 3, 1][axis] : axis;
}

const concatenate: Emitter = (ctx, { layer }, inputs) => {
  if (inputs.length < 2) fail(layer, `expected at least two inputs, got ${inputs.length}`);
  const rank = inputs[0].shape.length;
  const raw = layer.config.axis ?? -1;
  const kerasAxis = (raw as number) < 0 ? (raw as number) + rank : (raw as number) - 1;
  const axis = graphAxis(layer, raw, rank);
  for (const input of inputs)
    if (input.shape.length !== rank || input.shape.some((d, i) => i !== kerasAxis && d !== inputs[0].shape[i]))
      fail(layer, `inputs of shapes ${inputs.map((v) => `[${v.shape}]`).join(', ')} do not concatenate on axis ${raw}`);
  const shape = [...inputs[0].shape];
  shape[kerasAxis] = inputs.reduce((sum, input) => sum + input.shape[kerasAxis], 0);
  return {
    name: ctx.graph.concat(
      inputs.map((input) => input.name),
      axis,
    ),
    shape,
  };
};

// ---- pooling -------------------------------------------------------------------------------

const pooling =
  (kind: 'max' | 'average'): Emitter =>
  (ctx, { layer }, inputs) => {
    const input = imageInput(layer, inputs);
    channelsLast(layer);
    const kernel = pair(layer, 'pool_size', [2, 2]);
    const strides = pair(layer, 'strides', kernel);
    const { pads, outH, outW } = window(layer, input.shape, kernel, strides, [1, 1]);
    // TensorFlow's SAME average pooling divides by the cells inside the image only.
    const name =
      kind === 'max'
        ? ctx.graph.maxPool(input.name, kernel, strides, pads)
        : ctx.graph.averagePool(input.name, kernel, strides, pads, false);
    return { name, shape: [outH, outW, input.shape[2]] };
  };

const globalPooling =
  (kind: 'max' | 'average'): Emitter =>
  (ctx, { layer }, inputs) => {
    const input = imageInput(layer, inputs);
    channelsLast(layer);
    const pooled = kind === 'max' ? ctx.graph.globalMaxPool(input.name) : ctx.graph.globalAveragePool(input.name);
    const channels = input.shape[2];
    if (layer.config.keepdims === true) return { name: pooled, shape: [1, 1, channels] };
    return { name: ctx.graph.flatten(pooled), shape: [channels] };
  };

// ---- shape ---------------------------------------------------------------------------------

/** The tensor in Keras's element order (NHWC for an image). */
const kerasOrder = (ctx: EmitContext, value: Value) => (isImage(value) ? ctx.graph.transpose(value.name, TO_NHWC) : value.name);

/** A tensor in Keras's order with Keras shape `shape`, as a Value (an image goes back to NCHW). */
const fromKerasOrder = (ctx: EmitContext, name: string, shape: number[]): Value =>
  shape.length === 3 ? { name: ctx.graph.transpose(name, TO_NCHW), shape } : { name, shape };

const flatten: Emitter = (ctx, { layer }, inputs) => {
  const input = singleInput(layer, inputs);
  channelsLast(layer);
  if (input.shape.length === 1) return input;
  return { name: ctx.graph.flatten(kerasOrder(ctx, input)), shape: [input.shape.reduce((a, b) => a * b, 1)] };
};

const reshape: Emitter = (ctx, { layer }, inputs) => {
  const input = singleInput(layer, inputs);
  const target = layer.config.target_shape;
  if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && (d > 0 || d === -1)))
    fail(layer, `target_shape ${JSON.stringify(target)} is not a list of positive integers (one may be -1)`);
  const total = input.shape.reduce((a, b) => a * b, 1);
  const known = (target as number[]).filter((d) => d > 0).reduce((a, b) => a * b, 1);
  const shape = (target as number[]).map((d) => (d === -1 ? total / known : d));
  if (shape.reduce((a, b) => a * b, 1) !== total || !shape.every(Number.isInteger))
    fail(layer, `cannot reshape [${input.shape}] to [${target}]`);
  return fromKerasOrder(ctx, ctx.graph.reshape(kerasOrder(ctx, input), [0, ...shape]), shape);
};

const zeroPadding2d: Emitter = (ctx, call, inputs) => {
  const { layer } = call;
  const input = imageInput(layer, inputs);
  channelsLast(layer);
  const raw = layer.config.padding ?? 1;
  let pads: Pads | undefined; // top, bottom, left, right
  if (typeof raw === 'number') pads = [raw, raw, raw, raw];
  else if (Array.isArray(raw) && raw.length === 2 && raw.every((v) => typeof v === 'number')) pads = [raw[0], raw[0], raw[1], raw[1]];
  else if (Array.isArray(raw) && raw.length === 2 && raw.every((v) => Array.isArray(v) && v.length === 2))
    pads = [raw[0][0], raw[0][1], raw[1][0], raw[1][1]];
  if (!pads?.every((p) => Number.isInteger(p) && p >= 0)) return fail(layer, `padding ${JSON.stringify(raw)}`);
  const [top, bottom, left, right] = pads;
  const [h, w, c] = input.shape;
  const shape = [h + top + bottom, w + left + right, c];
  const g = ctx.graph;
  if (!ctx.consumerClasses(call).some((name) => POOLS.has(name)))
    return { name: g.pad(input.name, [0, 0, top, left, 0, 0, bottom, right]), shape };
  // onnxruntime fuses a Pad into the pool after it, which is wrong for MaxPool (its pads count as
  // -inf, not 0) and fails to load when a pad reaches the pool size. It leaves alone a Pad that also
  // pads the channels: so one channel more, sliced off again.
  const padded = g.pad(input.name, [0, 0, top, left, 0, 1, bottom, right]);
  return { name: g.slice(padded, [0], [c], [1]), shape };
};

const POOLS = new Set(['MaxPooling2D', 'AveragePooling2D']);

// ---- dense ---------------------------------------------------------------------------------

/** Over Keras's last axis: Gemm on a [batch, features] tensor, MatMul + Add (in NHWC) otherwise. */
const dense: Emitter = (ctx, { layer }, inputs) => {
  const input = singleInput(layer, inputs);
  const units = Number(layer.config.units);
  const features = input.shape[input.shape.length - 1];
  const kernel = kernelWeight(ctx, layer, 'kernel', [features, units]);
  const bias = biasWeight(ctx, layer, units);
  const g = ctx.graph;
  let out: Value;
  if (input.shape.length === 1) {
    out = { name: g.gemm(input.name, { dims: kernel.shape, values: kernel.values }, bias ?? new Float32Array(units)), shape: [units] };
  } else {
    const product = g.matMul(kerasOrder(ctx, input), { dims: kernel.shape, values: kernel.values });
    const biased = bias ? g.add(product, g.weight('dense_b', { dims: [units], values: bias })) : product;
    out = fromKerasOrder(ctx, biased, [...input.shape.slice(0, -1), units]);
  }
  return activation(ctx, layer, layer.config.activation, out);
};

/** Inference-time identities. */
const identity: Emitter = (_ctx, { layer }, inputs) => singleInput(layer, inputs);

export const EMITTERS: Record<string, Emitter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  ReLU: reluLayer,
  LeakyReLU: leakyRelu,
  Activation: activationLayer,
  Softmax: softmaxLayer,
  Add: elementwise((g, a, b) => g.add(a, b)),
  Subtract: elementwise((g, a, b) => g.op('Sub', [a, b])),
  Multiply: elementwise((g, a, b) => g.mul(a, b)),
  Maximum: elementwise((g, a, b) => g.op('Max', [a, b])),
  Minimum: elementwise((g, a, b) => g.op('Min', [a, b])),
  Average: elementwise(
    (g, a, b) => g.add(a, b),
    (g, x, count) => g.mul(x, g.scalar(1 / count)),
  ),
  Concatenate: concatenate,
  MaxPooling2D: pooling('max'),
  AveragePooling2D: pooling('average'),
  GlobalAveragePooling2D: globalPooling('average'),
  GlobalMaxPooling2D: globalPooling('max'),
  Flatten: flatten,
  Reshape: reshape,
  ZeroPadding2D: zeroPadding2d,
  Dense: dense,
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

/** Layers that a BatchNormalization directly after them can be folded into. */
export const FOLDS_BATCH_NORM = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);
