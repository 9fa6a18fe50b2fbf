/**
 * The weight bytes of a TF.js Layers model, decoded as tfjs-core's io.decodeWeights does:
 * specs in manifest order, each taking its bytes from the concatenation of every shard.
 * Quantized weights (uint8, uint16: value = q * scale + min; float16) become float32.
 */
import { ModelImportError } from './errors';

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  min?: number;
  scale?: number;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface DecodedWeight {
  shape: number[];
  values: Float32Array;
}

/** One buffer, or one per shard in manifest order (what a loader reads). */
export type WeightData = ArrayBuffer | Uint8Array | Array<ArrayBuffer | Uint8Array>;

const bytesOf = (part: ArrayBuffer | Uint8Array) => (part instanceof Uint8Array ? part : new Uint8Array(part));

/** The shards as one contiguous byte array. */
export function concatWeightData(data: WeightData): Uint8Array {
  if (!Array.isArray(data)) return bytesOf(data);
  const parts = data.map(bytesOf);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** IEEE 754 half precision to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decodeOne(spec: WeightSpec, view: DataView, offset: number, count: number): Float32Array {
  const values = new Float32Array(count);
  const q = spec.quantization;
  if (!q) {
    if (spec.dtype === 'float32') for (let i = 0; i < count; i++) values[i] = view.getFloat32(offset + i * 4, true);
    else for (let i = 0; i < count; i++) values[i] = view.getInt32(offset + i * 4, true);
    return values;
  }
  if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) values[i] = halfToFloat(view.getUint16(offset + i * 2, true));
    return values;
  }
  const { min, scale } = q;
  if (typeof min !== 'number' || typeof scale !== 'number')
    throw new ModelImportError(`weight "${spec.name}" is ${q.dtype}-quantized without numeric min and scale`);
  const read = q.dtype === 'uint8' ? (i: number) => view.getUint8(offset + i) : (i: number) => view.getUint16(offset + i * 2, true);
  // The same arithmetic as tfjs (in doubles, then stored as float32), so both see identical weights.
  for (let i = 0; i < count; i++) values[i] = read(i) * scale + min;
  if (spec.dtype === 'int32') for (let i = 0; i < count; i++) values[i] = Math.round(values[i]);
  return values;
}

/** Every weight by name, as float32. Throws when the bytes and the manifest disagree in length. */
export function decodeWeights(groups: WeightsGroup[], data: WeightData): Map<string, DecodedWeight> {
  const bytes = concatWeightData(data);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const spec of groups.flatMap((group) => group.weights)) {
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new ModelImportError(`weight "${spec.name}" has dtype ${spec.dtype}`);
    const storage = spec.quantization?.dtype ?? spec.dtype;
    const width = BYTES[storage];
    if (!width) throw new ModelImportError(`weight "${spec.name}" has unknown quantization dtype ${storage}`);
    const count = spec.shape.reduce((product, d) => product * d, 1);
    if (offset + count * width > bytes.length)
      throw new ModelImportError(
        `weight data ends at byte ${bytes.length}, before weight "${spec.name}" (needs ${offset + count * width})`,
      );
    out.set(spec.name, { shape: spec.shape, values: decodeOne(spec, view, offset, count) });
    offset += count * width;
  }
  if (offset !== bytes.length) throw new ModelImportError(`weight data has ${bytes.length} bytes, the manifest describes ${offset}`);
  return out;
}
