/**
 * The demo CNN and its training loop, on tfjs's pure-JS CPU backend (the only one that installs
 * here). Small on purpose: strided convolutions instead of pooling and few filters keep an epoch
 * of 4,000 pictures to ~20 s (with `installFastConvFilterGrad()`; without it, minutes), and global
 * average pooling makes the classifier indifferent to where the shape is.
 * Deterministic: weights come from seeded initialisers, the order of examples and their
 * symmetries from a seeded stream, and nothing uses dropout or Math.random.
 */
import * as tf from '@tensorflow/tfjs';
import type { ShapeSet } from './dataset';
import { createRandom } from './random';

export interface CnnOptions {
  inputSize: number;
  classes: number;
  /** Filters of each 3x3, stride-2 convolution. */
  filters: number[];
  seed: number;
}

/** NHWC in (tfjs's layout), class probabilities out. */
export function buildCnn({ inputSize, classes, filters, seed }: CnnOptions): tf.Sequential {
  const rng = createRandom(seed);
  const nextSeed = () => rng.int(0, 0x7fffffff);
  const model = tf.sequential();
  filters.forEach((count, i) =>
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [inputSize, inputSize, 3] } : {}),
        filters: count,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: nextSeed() }),
        biasInitializer: 'zeros',
      }),
    ),
  );
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(
    tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) }),
  );
  return model;
}

/** A set's pictures as one NHWC tensor (the set is NCHW, as the ONNX model and `preprocess` use). */
export function toNhwc(set: ShapeSet): tf.Tensor4D {
  const [channels, height, width] = set.pictureDims;
  return tf.tidy(() => tf.tensor4d(set.inputs, [set.count, channels, height, width]).transpose([0, 2, 3, 1]));
}

/**
 * One of the 8 symmetries of the square (k in 0..7): bit 0 mirrors left-right, bit 1 flips
 * top-bottom, bit 2 swaps rows and columns. Every class is closed under all 8 (a mirrored
 * triangle is a triangle), so each picture counts as 8 distinct training examples for free.
 */
export function dihedral(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    let out = x;
    if (k & 1) out = tf.reverse(out, 2);
    if (k & 2) out = tf.reverse(out, 1);
    if (k & 4) out = tf.transpose(out, [0, 2, 1, 3]);
    return out;
  });
}

/** The epoch's pictures in `order`, picture i transformed by symmetry `transforms[i]`. */
function augmentedEpoch(x: tf.Tensor4D, order: number[], transforms: number[]): tf.Tensor4D {
  return tf.tidy(() => {
    const positions = Array.from({ length: 8 }, (_, k) => order.map((_, p) => p).filter((p) => transforms[p] === k)).filter(
      (group) => group.length > 0,
    );
    const parts = positions.map((group) =>
      dihedral(
        tf.gather(
          x,
          group.map((p) => order[p]),
        ),
        transforms[group[0]],
      ),
    );
    // Rows are now grouped by symmetry; put them back in epoch order.
    const row = new Array<number>(order.length);
    positions.flat().forEach((p, j) => (row[p] = j));
    return tf.gather(tf.concat(parts, 0), row);
  });
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** The learning rate of the last epoch; it falls geometrically from `learningRate` to this. */
  finalLearningRate: number;
  seed: number;
  onEpoch?: (epoch: number, loss: number, accuracy: number, seconds: number) => void;
}

/** Trains in place. Each epoch sees the pictures in a fresh seeded order and seeded symmetries. */
export async function train(model: tf.Sequential, set: ShapeSet, options: TrainOptions): Promise<void> {
  const rng = createRandom(options.seed);
  const optimizer = tf.train.adam(options.learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const x = toNhwc(set);
  const y = tf.oneHot(tf.tensor1d(set.labels, 'int32'), model.outputs[0].shape[1] as number);
  const indices = Array.from({ length: set.count }, (_, i) => i);
  const decay = (options.finalLearningRate / options.learningRate) ** (1 / Math.max(1, options.epochs - 1));
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      // Adam reads its learning rate at every step; tfjs has no schedule API for it, so set it directly.
      (optimizer as unknown as { learningRate: number }).learningRate = options.learningRate * decay ** (epoch - 1);
      const order = rng.shuffled(indices);
      const xs = augmentedEpoch(
        x,
        order,
        order.map(() => rng.int(0, 7)),
      );
      const ys = tf.gather(y, order);
      // fit's own shuffle uses Math.random: off, the order above is the seeded one.
      const history = await model.fit(xs, ys, { epochs: 1, batchSize: options.batchSize, shuffle: false, verbose: 0 });
      tf.dispose([xs, ys]);
      const loss = history.history.loss[0] as number;
      const accuracy = (history.history.acc ?? history.history.accuracy)[0] as number;
      options.onEpoch?.(epoch, loss, accuracy, (performance.now() - started) / 1000);
    }
  } finally {
    tf.dispose([x, y]);
  }
}

/** Class probabilities for every picture of a set, row after row. */
export function predictProbabilities(model: tf.LayersModel, set: ShapeSet): Float32Array {
  return tf.tidy(() => (model.predict(toNhwc(set), { batchSize: 256 }) as tf.Tensor).dataSync() as Float32Array);
}

/** Share of pictures whose most probable class is their label. */
export function accuracy(probabilities: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[i * classes + c] > probabilities[i * classes + best]) best = c;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}
