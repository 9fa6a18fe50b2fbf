/**
 * A graph with MobileNetV2's shape (Sandler et al. 2018, width 1.0, 224x224, 1000 classes) and
 * random weights: for timing the ONNX runtimes on a realistically sized model when no pretrained
 * weights can be downloaded. Its predictions mean nothing.
 *
 * Batch normalisation is left out as if already folded into the convolutions (what exporters do),
 * so each convolution carries a bias; that is why the count is ~3.49 M, not the paper's 3.50 M.
 */

import { type FloatTensor, OnnxGraphBuilder, samePads } from '../../ops/modelImport/onnxGraph';
import { createRandom, type Random } from './random';

export const MOBILENET_INPUT = 224;
export const MOBILENET_CLASSES = 1000;

/** Inverted residual stages: expansion t, output channels c, repeats n, first stride s (the paper's table 2). */
const STAGES: Array<[t: number, c: number, n: number, s: number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** He-normal weights (std sqrt(gain / fan-in)), so activations neither vanish nor saturate every Clip. */
function randomWeight(rng: Random, dims: number[], gain: number): FloatTensor {
  const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(gain / fanIn);
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
  return { dims, values };
}

const randomBias = (rng: Random, count: number) => Float32Array.from({ length: count }, () => rng.uniform(-0.01, 0.01));

export interface MobileNetLikeModel {
  bytes: Uint8Array;
  parameterCount: number;
  inputName: string;
  outputName: string;
}

export function mobileNetV2Like(seed: number, inputName = 'input', outputName = 'probabilities'): MobileNetLikeModel {
  const rng = createRandom(seed);
  const graph = new OnnxGraphBuilder();
  let size = MOBILENET_INPUT;
  /** Conv + bias, then ReLU6 unless `linear`; keeps track of the spatial size for the padding. */
  const conv = (input: string, cin: number, cout: number, kernel: number, stride: number, group: number, linear = false) => {
    const pads = samePads(size, size, [kernel, kernel], [stride, stride]);
    size = Math.ceil(size / stride);
    const weight = randomWeight(rng, [cout, cin / group, kernel, kernel], linear ? 1 : 2);
    const out = graph.conv(input, { weight, bias: randomBias(rng, cout), strides: [stride, stride], pads, group });
    return linear ? out : graph.clip(out, 0, 6);
  };

  let x = conv(inputName, 3, 32, 3, 2, 1);
  let channels = 32;
  for (const [t, c, n, s] of STAGES) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = channels * t;
      let y = t === 1 ? x : conv(x, channels, hidden, 1, 1, 1);
      y = conv(y, hidden, hidden, 3, stride, hidden); // depthwise: one group per channel
      y = conv(y, hidden, c, 1, 1, 1, true); // linear bottleneck: no activation after the projection
      x = stride === 1 && channels === c ? graph.add(x, y) : y;
      channels = c;
    }
  }
  x = conv(x, channels, 1280, 1, 1, 1);
  x = graph.flatten(graph.globalAveragePool(x));
  const head = randomWeight(rng, [1280, MOBILENET_CLASSES], 1);
  x = graph.softmax(graph.gemm(x, head, new Float32Array(MOBILENET_CLASSES)), outputName);
  const bytes = graph.encode(
    'mobilenetv2_like',
    { name: inputName, dims: [1, 3, MOBILENET_INPUT, MOBILENET_INPUT] },
    { name: outputName, dims: [1, MOBILENET_CLASSES] },
    `MobileNetV2-shaped graph with random weights (seed ${seed}), for runtime timing only.`,
  );
  return { bytes, parameterCount: graph.parameterCount, inputName, outputName };
}
