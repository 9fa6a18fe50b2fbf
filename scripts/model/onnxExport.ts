/**
 * Writes ONNX graphs from TypeScript with onnx-proto: the one piece of code behind both the demo
 * model's export and the MobileNetV2-sized timing graph.
 *
 * IR version 8, opset 13, and only the operators checked to run in both onnxruntime-node and
 * onnxruntime-web (Conv, Relu, Clip, Add, GlobalAveragePool, Flatten, Gemm, Softmax), so a model
 * written here loads in whichever runtime the predict function ships with.
 * Tensors are float32, NCHW; convolution weights are OIHW (out, in / group, kernel h, kernel w).
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

  private node(opType: string, inputs: string[], attribute: onnx.IAttributeProto[] = [], output?: string): string {
    const name = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, name: `${opType}_${this.nodes.length}`, input: inputs, output: [name], attribute });
    return name;
  }

  conv(input: string, { weight, bias, strides = [1, 1], pads = [0, 0, 0, 0], group = 1 }: ConvOptions, output?: string): string {
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
      ints('dilations', [1, 1]),
      int('group', group),
    ];
    return this.node('Conv', inputs, attributes, output);
  }

  relu(input: string, output?: string): string {
    return this.node('Relu', [input], [], output);
  }

  /** min(max(x, low), high); opset 13 takes the bounds as inputs, not attributes. ReLU6 is clip(x, 0, 6). */
  clip(input: string, low: number, high: number, output?: string): string {
    return this.node('Clip', [input, this.scalar(low), this.scalar(high)], [], output);
  }

  add(a: string, b: string, output?: string): string {
    return this.node('Add', [a, b], [], output);
  }

  /** N x C x H x W -> N x C x 1 x 1. */
  globalAveragePool(input: string, output?: string): string {
    return this.node('GlobalAveragePool', [input], [], output);
  }

  /** N x C x 1 x 1 -> N x C. */
  flatten(input: string, output?: string): string {
    return this.node('Flatten', [input], [int('axis', 1)], output);
  }

  /** input x weight + bias, with weight as [in, out] (the layout tfjs's Dense keeps). */
  gemm(input: string, weight: FloatTensor, bias: Float32Array, output?: string): string {
    const w = this.weight('gemm_w', weight);
    const b = this.weight('gemm_b', { dims: [weight.dims[1]], values: bias });
    return this.node('Gemm', [input, w, b], [int('transB', 0)], output);
  }

  /** Over the class axis. */
  softmax(input: string, output?: string): string {
    return this.node('Softmax', [input], [int('axis', 1)], output);
  }

  /** The serialised model, ready to write to `model.onnx`. */
  encode(graphName: string, input: GraphValue, output: GraphValue, docString: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'image-pipeline scripts/model',
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
