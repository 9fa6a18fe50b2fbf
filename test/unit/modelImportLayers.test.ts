/**
 * The TF.js Layers importer, layer type by layer type: each case builds a tiny tfjs model with
 * seeded random weights, saves it through a memory IO handler (model.json + weight bytes, exactly
 * what tfjs writes), converts it, and runs the ONNX in onnxruntime-node on the same input tfjs
 * predicts on. Shapes are small and odd on purpose: TF's SAME padding puts the extra row and
 * column at the bottom/right, and only sizes that do not divide evenly show whether it does.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {
  type ConvertedModel,
  type ConvertOptions,
  convertLayersModel,
  importTfjsModel,
  ModelImportError,
  type WeightSpec,
} from '../../ops/modelImport';
import { createRandom } from '../../scripts/model/random';

jest.setTimeout(60_000);

const TOLERANCE = 1e-4;
const BATCH = 2;
const maxDiffs: Array<[string, number]> = [];

interface Saved {
  modelTopology: unknown;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

async function save(model: tf.LayersModel): Promise<Saved> {
  let saved: Saved | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = {
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs as WeightSpec[],
        weightData: artifacts.weightData as ArrayBuffer,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Seeded weights: variances and BN scales positive and away from 0, the rest around 0. */
function randomizeWeights(model: tf.LayersModel, seed: number) {
  const rng = createRandom(seed);
  const weights = model.weights.map((w) => {
    const size = w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number;
    const positive = /variance|gamma/.test(w.originalName);
    const values = Float32Array.from({ length: size }, () => (positive ? rng.uniform(0.5, 1.5) : rng.uniform(-0.6, 0.6)));
    return tf.tensor(values, w.shape as number[]);
  });
  model.setWeights(weights);
  for (const w of weights) w.dispose();
}

function randomInput(shape: number[], seed: number): Float32Array {
  const rng = createRandom(seed);
  return Float32Array.from({ length: BATCH * shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
}

async function runOnnx(converted: ConvertedModel, input: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(converted.onnx, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const result = await session.run({ [converted.inputName]: new ort.Tensor('float32', input, [BATCH, ...shape]) });
    return result[converted.outputName].data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const convert = (saved: Saved, options?: ConvertOptions) =>
  convertLayersModel({ modelTopology: saved.modelTopology, weightSpecs: saved.weightSpecs }, saved.weightData, options);

let seed = 1;

/** Converts the model, runs both and returns the conversion; the outputs must agree within TOLERANCE. */
async function expectSame(label: string, model: tf.LayersModel): Promise<ConvertedModel> {
  randomizeWeights(model, seed++);
  const shape = model.inputs[0].shape.slice(1) as number[];
  const input = randomInput(shape, seed++);
  const converted = convert(await save(model));
  const expected = tf.tidy(() => (model.predict(tf.tensor(input, [BATCH, ...shape])) as tf.Tensor).dataSync() as Float32Array);
  const actual = await runOnnx(converted, input, shape);
  expect(converted.outputShape).toEqual(model.outputs[0].shape.slice(1));
  const diff = maxAbsDiff(actual, expected);
  maxDiffs.push([label, diff]);
  expect(diff).toBeLessThan(TOLERANCE);
  model.dispose();
  return converted;
}

const sequential = (inputShape: number[], layers: tf.layers.Layer[]) =>
  tf.sequential({ layers: [tf.layers.inputLayer({ inputShape }), ...layers] });

afterAll(() => {
  const worst = maxDiffs.reduce((max, [, d]) => Math.max(max, d), 0);
  console.log(
    `modelImport layers: ${maxDiffs.length} comparisons, worst max abs diff ${worst.toExponential(2)}\n${maxDiffs.map(([l, d]) => `  ${d.toExponential(2)}  ${l}`).join('\n')}`,
  );
});

describe('Conv2D', () => {
  const cases: Array<[padding: 'same' | 'valid', stride: number, kernel: [number, number], size: [number, number]]> = [];
  for (const padding of ['same', 'valid'] as const)
    for (const stride of [1, 2])
      for (const size of [
        [8, 8],
        [9, 7],
      ] as Array<[number, number]>)
        for (const kernel of [
          [3, 3],
          [2, 3],
        ] as Array<[number, number]>)
          cases.push([padding, stride, kernel, size]);

  test.each(cases)('padding %s, stride %i, kernel %j, input %j', async (padding, stride, kernel, [h, w]) => {
    await expectSame(
      `Conv2D ${padding} s${stride} k${kernel} ${h}x${w}`,
      sequential([h, w, 3], [tf.layers.conv2d({ filters: 4, kernelSize: kernel, strides: stride, padding })]),
    );
  });

  test('without bias, with fused relu, then one with stride 3 and a 5x5 kernel on a 9x7 image', async () => {
    await expectSame(
      'Conv2D no bias, relu; stride 3 k5 same',
      sequential(
        [9, 7, 2],
        [
          tf.layers.conv2d({ filters: 3, kernelSize: 3, useBias: false, activation: 'relu', padding: 'same' }),
          tf.layers.conv2d({ filters: 2, kernelSize: 5, strides: 3, padding: 'same', activation: 'sigmoid' }),
        ],
      ),
    );
  });

  test('dilated, same and valid', async () => {
    await expectSame(
      'Conv2D dilation 2',
      sequential(
        [9, 8, 2],
        [
          tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' }),
          tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: [2, 1], padding: 'valid' }),
        ],
      ),
    );
  });
});

describe('depthwise and separable convolutions', () => {
  test.each([
    ['same', 1, 1],
    ['same', 2, 2],
    ['valid', 2, 1],
  ] as const)('DepthwiseConv2D padding %s, stride %i, depth multiplier %i', async (padding, stride, depthMultiplier) => {
    await expectSame(
      `DepthwiseConv2D ${padding} s${stride} m${depthMultiplier}`,
      sequential([9, 7, 3], [tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding, depthMultiplier, activation: 'relu6' })]),
    );
  });

  test.each([
    ['same', 1],
    ['same', 2],
    ['valid', 2],
  ] as const)('SeparableConv2D padding %s, stride %i', async (padding, stride) => {
    await expectSame(
      `SeparableConv2D ${padding} s${stride}`,
      sequential(
        [8, 9, 3],
        [tf.layers.separableConv2d({ filters: 4, kernelSize: 3, strides: stride, padding, depthMultiplier: 2, activation: 'tanh' })],
      ),
    );
  });
});

describe('BatchNormalization', () => {
  test('folded into the Conv2D, DepthwiseConv2D and SeparableConv2D before it', async () => {
    const converted = await expectSame(
      'BatchNormalization folded (conv, depthwise, separable)',
      sequential(
        [9, 7, 3],
        [
          tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
          tf.layers.batchNormalization({ epsilon: 1e-3 }),
          tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }),
          tf.layers.batchNormalization({ center: false }),
          tf.layers.separableConv2d({ filters: 3, kernelSize: 3, padding: 'same' }),
          tf.layers.batchNormalization({ scale: false }),
        ],
      ),
    );
    expect(converted.foldedBatchNorms).toBe(3);
  });

  test('standalone: after the input, after a conv with a fused activation, after a conv whose output is also used elsewhere, after a Dense', async () => {
    const input = tf.input({ shape: [8, 7, 3] });
    const first = tf.layers.batchNormalization().apply(input) as tf.SymbolicTensor;
    const relu = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(first) as tf.SymbolicTensor;
    const afterRelu = tf.layers.batchNormalization().apply(relu) as tf.SymbolicTensor;
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(afterRelu) as tf.SymbolicTensor;
    const normalised = tf.layers.batchNormalization().apply(conv) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([normalised, conv]) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(sum) as tf.SymbolicTensor;
    const denseOut = tf.layers.dense({ units: 4 }).apply(pooled) as tf.SymbolicTensor;
    const output = tf.layers.batchNormalization().apply(denseOut) as tf.SymbolicTensor;
    const converted = await expectSame('BatchNormalization standalone (4)', tf.model({ inputs: input, outputs: output }));
    expect(converted.foldedBatchNorms).toBe(0);
    expect(converted.layerCounts.BatchNormalization).toBe(4);
  });
});

describe('activations', () => {
  test('ReLU with max_value 6, plain ReLU, LeakyReLU', async () => {
    await expectSame(
      'ReLU max 6, ReLU, LeakyReLU',
      sequential(
        [7, 5, 2],
        [
          tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: 'ones' }),
          tf.layers.reLU({ maxValue: 6 }),
          tf.layers.conv2d({ filters: 3, kernelSize: 1 }),
          tf.layers.reLU(),
          tf.layers.conv2d({ filters: 2, kernelSize: 1 }),
          tf.layers.leakyReLU({ alpha: 0.2 }),
        ],
      ),
    );
  });

  const names = [
    'linear',
    'relu',
    'relu6',
    'sigmoid',
    'tanh',
    'softmax',
    'elu',
    'selu',
    'softplus',
    'softsign',
    'hardSigmoid',
    'swish',
    'mish',
  ] as const;
  test.each(names)('Activation %s on an image (per channel) and after a Dense', async (name) => {
    const input = tf.input({ shape: [5, 4, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    // Scaled up so that ReLU6's and the hard sigmoid's clipping are exercised.
    const spread = tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: 'ones' }).apply(conv) as tf.SymbolicTensor;
    const activated = tf.layers.activation({ activation: name }).apply(spread) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(activated) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 6, activation: name }).apply(flat) as tf.SymbolicTensor;
    await expectSame(`Activation ${name}`, tf.model({ inputs: input, outputs: output }));
  });

  test('a Softmax layer, and softmax as a Dense activation at the end of the model', async () => {
    await expectSame(
      'Softmax layer + Dense softmax',
      sequential([6], [tf.layers.dense({ units: 5 }), tf.layers.softmax(), tf.layers.dense({ units: 3, activation: 'softmax' })]),
    );
  });
});

describe('merging', () => {
  test('Add, Multiply, Average, Maximum, Minimum of conv branches', async () => {
    const input = tf.input({ shape: [7, 9, 3] });
    const branch = (k: number) => tf.layers.conv2d({ filters: 4, kernelSize: k, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const [a, b, c] = [branch(1), branch(3), branch(2)];
    const merged = [
      tf.layers.add().apply([a, b, c]),
      tf.layers.multiply().apply([a, b]),
      tf.layers.average().apply([b, c]),
      tf.layers.maximum().apply([a, b]),
      tf.layers.minimum().apply([b, c]),
    ] as tf.SymbolicTensor[];
    const output = tf.layers.add().apply(merged) as tf.SymbolicTensor;
    await expectSame('Add, Multiply, Average, Maximum, Minimum', tf.model({ inputs: input, outputs: output }));
  });

  test('Concatenate on the channel axis (-1 and 3) and on the height axis (1), and of flat tensors', async () => {
    const input = tf.input({ shape: [6, 5, 2] });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const channels = tf.layers.concatenate().apply([a, b, input]) as tf.SymbolicTensor;
    const channels3 = tf.layers.concatenate({ axis: 3 }).apply([channels, a]) as tf.SymbolicTensor;
    const c = tf.layers.conv2d({ filters: 10, kernelSize: 3, strides: [2, 1], padding: 'same' }).apply(channels3) as tf.SymbolicTensor;
    const rows = tf.layers.concatenate({ axis: 1 }).apply([channels3, c]) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(rows) as tf.SymbolicTensor;
    const pooled = tf.layers.globalMaxPooling2d({}).apply(rows) as tf.SymbolicTensor;
    const output = tf.layers.concatenate().apply([flat, pooled]) as tf.SymbolicTensor;
    await expectSame('Concatenate (channels, height, flat)', tf.model({ inputs: input, outputs: output }));
  });
});

describe('pooling', () => {
  const cases: Array<[kind: 'max' | 'average', padding: 'same' | 'valid', pool: number, stride: number, size: [number, number]]> = [];
  for (const kind of ['max', 'average'] as const)
    for (const padding of ['same', 'valid'] as const)
      for (const [pool, stride] of [
        [2, 2],
        [3, 2],
        [3, 1],
      ])
        for (const size of [
          [8, 8],
          [9, 7],
        ] as Array<[number, number]>)
          cases.push([kind, padding, pool, stride, size]);

  test.each(cases)('%sPooling2D padding %s, pool %i, stride %i, input %j', async (kind, padding, poolSize, strides, [h, w]) => {
    const layer =
      kind === 'max' ? tf.layers.maxPooling2d({ poolSize, strides, padding }) : tf.layers.averagePooling2d({ poolSize, strides, padding });
    await expectSame(`${kind}Pooling2D ${padding} p${poolSize} s${strides} ${h}x${w}`, sequential([h, w, 3], [layer]));
  });

  test('GlobalAveragePooling2D and GlobalMaxPooling2D', async () => {
    const input = tf.input({ shape: [9, 7, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const avg = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const max = tf.layers.globalMaxPooling2d({}).apply(conv) as tf.SymbolicTensor;
    await expectSame(
      'GlobalAverage/MaxPooling2D',
      tf.model({ inputs: input, outputs: tf.layers.add().apply([avg, max]) as tf.SymbolicTensor }),
    );
  });
});

describe('shape layers', () => {
  test('Flatten then Dense after convolutions reads the features in NHWC order', async () => {
    await expectSame(
      'Flatten + Dense after convs',
      sequential(
        [9, 7, 3],
        [
          tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'valid' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 8, activation: 'relu' }),
          tf.layers.dropout({ rate: 0.5 }),
          tf.layers.dense({ units: 4, activation: 'softmax' }),
        ],
      ),
    );
  });

  test('Reshape to a sequence, Dense over its last axis, Reshape back to an image, and a Dense on an image', async () => {
    await expectSame(
      'Reshape (image -> sequence -> image), Dense on rank 2 and rank 3',
      sequential(
        [8, 6, 2],
        [
          tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }),
          tf.layers.reshape({ targetShape: [12, 16] }),
          tf.layers.dense({ units: 5 }),
          tf.layers.reshape({ targetShape: [6, 5, 2] }),
          tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
          tf.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      ),
    );
  });

  test('ZeroPadding2D, symmetric and asymmetric, before valid convolutions and pools', async () => {
    await expectSame(
      'ZeroPadding2D',
      sequential(
        [7, 8, 2],
        [
          tf.layers.zeroPadding2d({
            padding: [
              [0, 1],
              [2, 1],
            ],
          }),
          tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2 }),
          tf.layers.zeroPadding2d({ padding: 1 }),
          tf.layers.depthwiseConv2d({ kernelSize: 3 }),
          tf.layers.zeroPadding2d({ padding: [1, 2] }),
          tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }),
          tf.layers.zeroPadding2d({
            padding: [
              [1, 0],
              [0, 1],
            ],
          }),
          tf.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
          tf.layers.zeroPadding2d({ padding: 2 }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
        ],
      ),
    );
  });

  test('Dropout is the identity at inference', async () => {
    await expectSame(
      'Dropout',
      sequential([5], [tf.layers.dropout({ rate: 0.9 }), tf.layers.dense({ units: 3 }), tf.layers.dropout({ rate: 0.3 })]),
    );
  });
});

/** TF.js's converter's affine quantization: range nudged so that 0 is exact, q = round((clip(x) - min) / scale). */
function quantize(values: Float32Array, dtype: 'uint8' | 'uint16') {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let min = Math.min(...values);
  let max = Math.max(...values);
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  if (min === max) return { q, min, scale: 1 };
  const scale = (max - min) / qmax;
  if (min <= 0 && 0 <= max) {
    const zeroPoint = Math.round(-min / scale);
    min = -zeroPoint * scale;
    max = qmax * scale + min;
  }
  for (let i = 0; i < values.length; i++) q[i] = Math.round((Math.min(Math.max(values[i], min), max) - min) / scale);
  return { q, min, scale };
}

describe('quantized weights', () => {
  test.each(['uint8', 'uint16'] as const)('%s-quantized weights decode as tfjs decodes them (value = min + q * scale)', async (dtype) => {
    const model = sequential(
      [9, 7, 3],
      [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    );
    randomizeWeights(model, 99);
    const saved = await save(model);
    // Quantize every weight as the converter would, in manifest order, with alternating key orders.
    const bytes: Uint8Array[] = [];
    let offset = 0;
    const weightSpecs = saved.weightSpecs.map((spec, i) => {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(saved.weightData.slice(offset, offset + size * 4));
      offset += size * 4;
      const { q, min, scale } = quantize(values, dtype);
      bytes.push(new Uint8Array(q.buffer));
      return { ...spec, quantization: i % 2 ? { dtype, min, scale } : { dtype, scale, min } };
    });
    const weightData = new Uint8Array(bytes.reduce((sum, b) => sum + b.length, 0));
    let at = 0;
    for (const b of bytes) {
      weightData.set(b, at);
      at += b.length;
    }
    // tfjs loads the quantized model (and dequantizes it) for the reference.
    const reference = await tf.loadLayersModel({
      load: async () => ({
        modelTopology: saved.modelTopology as object,
        weightSpecs: weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: weightData.buffer,
      }),
    });
    const converted = convertLayersModel(
      { modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['w'], weights: weightSpecs }] },
      [weightData.buffer],
    );
    const input = randomInput([9, 7, 3], 7);
    const expected = tf.tidy(() => (reference.predict(tf.tensor(input, [BATCH, 9, 7, 3])) as tf.Tensor).dataSync() as Float32Array);
    const diff = maxAbsDiff(await runOnnx(converted, input, [9, 7, 3]), expected);
    maxDiffs.push([`${dtype}-quantized weights`, diff]);
    expect(diff).toBeLessThan(TOLERANCE);
    model.dispose();
    reference.dispose();
  });
});

describe('refusals', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-import-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeModelJson = (saved: Saved) => {
    writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(saved.weightData));
    writeFileSync(
      path.join(dir, 'model.json'),
      JSON.stringify({ modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] }),
    );
  };
  const fields = {
    name: 'refused',
    version: '1',
    channelOrder: 'RGB' as const,
    scale: 255,
    mean: [0, 0, 0] as [number, number, number],
    std: [1, 1, 1] as [number, number, number],
    fit: 'fill' as const,
    outputType: 'probabilities' as const,
    labels: ['a', 'b'],
  };

  test('an LSTM is refused by name and class, and nothing is written', async () => {
    const model = sequential(
      [4, 3],
      [tf.layers.dense({ units: 3, name: 'before' }), tf.layers.lstm({ units: 2, name: 'memory' }), tf.layers.dense({ units: 2 })],
    );
    writeModelJson(await save(model));
    const target = path.join(dir, 'out');
    let error: unknown;
    try {
      importTfjsModel(dir, target, fields);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelImportError);
    expect((error as ModelImportError).layer).toEqual({ name: 'memory', className: 'LSTM' });
    expect((error as Error).message).toMatch(/layer "memory" \(LSTM\): layer type LSTM is not supported/);
    expect(existsSync(target)).toBe(false);
    model.dispose();
  });

  test('a model that converts is written as model.onnx and a manifest the predict function accepts', async () => {
    const model = sequential(
      [6, 5, 3],
      [tf.layers.conv2d({ filters: 2, kernelSize: 3 }), tf.layers.globalAveragePooling2d({}), tf.layers.softmax()],
    );
    writeModelJson(await save(model));
    const { manifest, files } = importTfjsModel(dir, path.join(dir, 'out'), fields, { inputName: 'image', outputName: 'probabilities' });
    expect(manifest).toMatchObject({
      inputName: 'image',
      outputName: 'probabilities',
      height: 6,
      width: 5,
      layout: 'NHWC',
      labels: ['a', 'b'],
    });
    expect(files.every(existsSync)).toBe(true);
    model.dispose();
  });

  test.each([
    [
      'ReLU negative_slope 0.1',
      (layer: any) => layer.class_name === 'ReLU' && Object.assign(layer.config, { negative_slope: 0.1 }),
      /negative_slope 0.1/,
    ],
    [
      'channels_first',
      (layer: any) => layer.class_name === 'Conv2D' && Object.assign(layer.config, { data_format: 'channels_first' }),
      /data_format channels_first/,
    ],
    [
      'causal padding',
      (layer: any) => layer.class_name === 'Conv2D' && Object.assign(layer.config, { padding: 'causal' }),
      /padding "causal"/,
    ],
    [
      'strides with dilation',
      (layer: any) => layer.class_name === 'Conv2D' && Object.assign(layer.config, { strides: [2, 2], dilation_rate: [2, 2] }),
      /dilation_rate and strides/,
    ],
    [
      'an unknown activation',
      (layer: any) => layer.class_name === 'Conv2D' && Object.assign(layer.config, { activation: 'gelu_new' }),
      /activation "gelu_new"/,
    ],
  ])('%s is refused, naming the layer', async (_label, edit, message) => {
    const model = sequential(
      [6, 6, 3],
      [tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'the_conv' }), tf.layers.reLU({ name: 'the_relu' })],
    );
    const saved = await save(model);
    for (const layer of (saved.modelTopology as any).config.layers) edit(layer);
    expect(() => convert(saved)).toThrow(ModelImportError);
    expect(() => convert(saved)).toThrow(message);
    expect(() => convert(saved)).toThrow(/layer "the_(conv|relu)" \((Conv2D|ReLU)\)/);
    model.dispose();
  });

  test('weight bytes that do not match the manifest are refused', async () => {
    const model = sequential([3], [tf.layers.dense({ units: 2 })]);
    const saved = await save(model);
    expect(() => convert({ ...saved, weightData: saved.weightData.slice(4) })).toThrow(/ends at byte/);
    model.dispose();
  });
});
