/**
 * Writes ONNX graphs from TypeScript with onnx-proto: the one builder behind the demo model's
 * export, the MobileNetV2-sized timing graph and the TF.js Layers importer.
 *
 * IR version 8, opset 13: operators every onnxruntime build (node and web) runs. Convolution and
 * pooling take NCHW tensors; convolution weights are OIHW (out, in / group, kernel h, kernel w).
 * Learned tensors are float32; shapes for Reshape and pads for Pad are int64 constants.
 */
import { onnx } from 'onnx-proto';

export const IR_VERSION = 8;
export const OPSET = 13;

/** A float32 tensor: its dims and its values in row-major order. */
export interface FloatTensor {
  dims: number[];
  values: Float32Array;
}

export interface ConvOptions {
  /** OIHW. */
  weight: FloatTensor;
  /** One per output channel. */
  bias?: Float32Array;
  strides?: [number, number];
  /** [top, left, bottom, right], ONNX's order: all begins, then all ends. */
  pads?: [number, number, number, number];
  /** Channel groups: 1 for a dense convolution, the channel count for a depthwise one. */
  group?: number;
  /** Spacing between kernel taps: [1, 1] for an ordinary convolution. */
  dilations?: [number, number];
}

/** A graph input or output: name and dims, where a string names a free dimension (e.g. the batch). */
export interface GraphValue {
  name: string;
  dims: Array<number | string>;
}

const size = (dims: number[]) => dims.reduce((product, d) => product * d, 1);

const ints = (name: string, values: number[]): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
const float = (name: string, value: number): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.FLOAT,
  f: value,
});

const valueInfo = ({ name, dims }: GraphValue): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

/** Little-endian float32 bytes, as ONNX raw_data requires on any host. */
function rawFloat32(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

/** Little-endian int64 bytes. */
function rawInt64(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return bytes;
}

/**
 * Builds a graph node by node. Each operator method takes input names and returns the name of
 * its output, so a network reads as a chain of calls; pass `output` to give the result a fixed
 * name (the graph's declared output).
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly scalars = new Map<number, string>();
  private counter = 0;
  /** Learned values (weights and biases), not counting the scalar bounds of Clip. */
  parameterCount = 0;

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  private initializer(name: string, tensor: FloatTensor): string {
    if (tensor.values.length !== size(tensor.dims))
      throw new RangeError(`${name}: ${tensor.values.length} values for dims [${tensor.dims}]`);
    this.initializers.push({ name, dims: tensor.dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: rawFloat32(tensor.values) });
    return name;
  }

  /** A learned tensor (counted in parameterCount). */
  weight(prefix: string, tensor: FloatTensor): string {
    this.parameterCount += tensor.values.length;
    return this.initializer(this.fresh(prefix), tensor);
  }

  /** A 0-d constant, shared by every node that uses the same value. */
  scalar(value: number): string {
    let name = this.scalars.get(value);
    if (!name) {
      name = this.initializer(this.fresh('const'), { dims: [], values: Float32Array.of(value) });
      this.scalars.set(value, name);
    }
    return name;
  }

  /** A 1-d int64 constant (a shape, pads). */
  int64s(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: rawInt64(values) });
    return name;
  }

  /** Any operator: the escape hatch behind the named methods below. */
  op(opType: string, inputs: string[], attribute: onnx.IAttributeProto[] = [], output?: string): string {
    const name = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, name: `${opType}_${this.nodes.length}`, input: inputs, output: [name], attribute });
    return name;
  }

  /**
   * Gives the value `from` the name `to` (e.g. the graph's declared output), wherever it is
   * produced or consumed. A graph input cannot be renamed: an Identity node then carries the name.
   */
  rename(from: string, to: string): string {
    if (from === to) return to;
    const producer = this.nodes.find((node) => node.output?.includes(from));
    if (!producer) return this.op('Identity', [from], [], to);
    producer.output = producer.output!.map((name) => (name === from ? to : name));
    for (const node of this.nodes) node.input = node.input!.map((name) => (name === from ? to : name));
    return to;
  }

  conv(
    input: string,
    { weight, bias, strides = [1, 1], pads = [0, 0, 0, 0], group = 1, dilations = [1, 1] }: ConvOptions,
    output?: string,
  ): string {
    const [outChannels, , kernelH, kernelW] = weight.dims;
    const inputs = [input, this.weight('conv_w', weight)];
    if (bias) {
      if (bias.length !== outChannels) throw new RangeError(`conv bias has ${bias.length} values for ${outChannels} output channels`);
      inputs.push(this.weight('conv_b', { dims: [outChannels], values: bias }));
    }
    const attributes = [
      ints('kernel_shape', [kernelH, kernelW]),
      ints('strides', strides),
      ints('pads', pads),
      ints('dilations', dilations),
      int('group', group),
    ];
    return this.op('Conv', inputs, attributes, output);
  }

  relu(input: string, output?: string): string {
    return this.op('Relu', [input], [], output);
  }

  /** x for x >= 0, alpha * x below. */
  leakyRelu(input: string, alpha: number, output?: string): string {
    return this.op('LeakyRelu', [input], [float('alpha', alpha)], output);
  }

  /** min(max(x, low), high); opset 13 takes the bounds as inputs, not attributes. ReLU6 is clip(x, 0, 6). */
  clip(input: string, low: number, high: number, output?: string): string {
    return this.op('Clip', [input, this.scalar(low), this.scalar(high)], [], output);
  }

  sigmoid(input: string, output?: string): string {
    return this.op('Sigmoid', [input], [], output);
  }

  tanh(input: string, output?: string): string {
    return this.op('Tanh', [input], [], output);
  }

  /** Element-wise, with numpy broadcasting. */
  add(a: string, b: string, output?: string): string {
    return this.op('Add', [a, b], [], output);
  }

  /** Element-wise, with numpy broadcasting. */
  mul(a: string, b: string, output?: string): string {
    return this.op('Mul', [a, b], [], output);
  }

  /** Reorders the axes: output axis i is input axis perm[i]. */
  transpose(input: string, perm: number[], output?: string): string {
    return this.op('Transpose', [input], [ints('perm', perm)], output);
  }

  /** To `shape`, where 0 keeps the input's dimension (the batch) and -1 takes what is left. */
  reshape(input: string, shape: number[], output?: string): string {
    return this.op('Reshape', [input, this.int64s('shape', shape)], [], output);
  }

  /** Zero padding; `pads` lists every axis's begin, then every axis's end (ONNX's order). */
  pad(input: string, pads: number[], output?: string): string {
    return this.op('Pad', [input, this.int64s('pads', pads)], [], output);
  }

  /** input[starts:ends] along `axes`. */
  slice(input: string, starts: number[], ends: number[], axes: number[], output?: string): string {
    return this.op('Slice', [input, this.int64s('starts', starts), this.int64s('ends', ends), this.int64s('axes', axes)], [], output);
  }

  concat(inputs: string[], axis: number, output?: string): string {
    return this.op('Concat', inputs, [int('axis', axis)], output);
  }

  /** NCHW max pooling; padded cells never win (ONNX pads MaxPool with -inf). */
  maxPool(
    input: string,
    kernel: [number, number],
    strides: [number, number],
    pads: [number, number, number, number],
    output?: string,
  ): string {
    return this.op('MaxPool', [input], [ints('kernel_shape', kernel), ints('strides', strides), ints('pads', pads)], output);
  }

  /** NCHW average pooling; with countIncludePad false, padded cells are left out of each mean. */
  averagePool(
    input: string,
    kernel: [number, number],
    strides: [number, number],
    pads: [number, number, number, number],
    countIncludePad: boolean,
    output?: string,
  ): string {
    const attributes = [
      ints('kernel_shape', kernel),
      ints('strides', strides),
      ints('pads', pads),
      int('count_include_pad', countIncludePad ? 1 : 0),
    ];
    return this.op('AveragePool', [input], attributes, output);
  }

  /** N x C x H x W -> N x C x 1 x 1. */
  globalAveragePool(input: string, output?: string): string {
    return this.op('GlobalAveragePool', [input], [], output);
  }

  /** N x C x H x W -> N x C x 1 x 1. */
  globalMaxPool(input: string, output?: string): string {
    return this.op('GlobalMaxPool', [input], [], output);
  }

  /** N x ... -> N x (product of the rest). */
  flatten(input: string, output?: string): string {
    return this.op('Flatten', [input], [int('axis', 1)], output);
  }

  /** input x weight + bias, with weight as [in, out] (the layout tfjs's Dense keeps). */
  gemm(input: string, weight: FloatTensor, bias: Float32Array, output?: string): string {
    const w = this.weight('gemm_w', weight);
    const b = this.weight('gemm_b', { dims: [weight.dims[1]], values: bias });
    return this.op('Gemm', [input, w, b], [int('transB', 0)], output);
  }

  /** input x weight over the last axis of an input of any rank; weight is [in, out]. */
  matMul(input: string, weight: FloatTensor, output?: string): string {
    return this.op('MatMul', [input, this.weight('matmul_w', weight)], [], output);
  }

  /** Over the class axis (1) unless told otherwise; -1 is the last axis. */
  softmax(input: string, output?: string, axis = 1): string {
    return this.op('Softmax', [input], [int('axis', axis)], output);
  }

  /** The serialised model, ready to write to `model.onnx`. */
  encode(
    graphName: string,
    input: GraphValue,
    output: GraphValue,
    docString: string,
    producerName = 'image-pipeline scripts/model',
  ): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName,
      docString,
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: [valueInfo(input)],
        output: [valueInfo(output)],
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/**
 * Pads ONNX needs to reproduce TensorFlow's 'same' padding: output = ceil(input / stride), and
 * when the total padding is odd the extra row/column goes at the end (bottom/right). ONNX's
 * SAME_UPPER means the same, but explicit pads leave no room for a runtime to read it differently.
 */
export function samePads(inH: number, inW: number, kernel: [number, number], strides: [number, number]): [number, number, number, number] {
  const total = (inSize: number, k: number, s: number) => Math.max((Math.ceil(inSize / s) - 1) * s + k - inSize, 0);
  const [h, w] = [total(inH, kernel[0], strides[0]), total(inW, kernel[1], strides[1])];
  return [Math.floor(h / 2), Math.floor(w / 2), h - Math.floor(h / 2), w - Math.floor(w / 2)];
}

/** tfjs's convolution kernel layout [kh, kw, in, out] (HWIO) to ONNX's [out, in, kh, kw] (OIHW). */
export function hwioToOihw(values: Float32Array, [kh, kw, cin, cout]: [number, number, number, number]): FloatTensor {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
  return { dims: [cout, cin, kh, kw], values: out };
}
