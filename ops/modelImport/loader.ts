/**
 * Reads a TF.js Layers model from a folder, in either of the forms it is published in:
 *   - `model.json` beside its weight shards (`group1-shard1of5.bin`, ...), as tfjs writes it;
 *   - `model.min.js` beside `group1-shard1of5.min.js`, ..., as nsfwjs packages its models: UMD
 *     modules whose `module.exports` is the model.json object, or a shard's bytes in base64.
 * The modules are evaluated in an empty node:vm context (no require, process or globals) with a
 * time limit, and only their plain data is kept.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import type { LayersModelJson } from './convert';
import { ModelImportError } from './errors';
import type { WeightsGroup } from './weights';

export interface TfjsLayersModel {
  model: LayersModelJson & { weightsManifest: WeightsGroup[] };
  /** One buffer per shard, in manifest order. */
  weightData: ArrayBuffer[];
  /** Which form the folder held. */
  format: 'json' | 'min.js';
}

export interface ReadOptions {
  /** How long one min.js module may run; default 10 s (nsfwjs's largest shard evaluates in well under 1 s). */
  evaluationTimeoutMs?: number;
}

/** What a UMD/CommonJS module assigns to module.exports, evaluated with nothing to reach. */
export function evaluateModuleExports(source: string, filename: string, timeout = 10_000): unknown {
  const module: { exports: unknown } = { exports: {} };
  const context = vm.createContext({ module, exports: module.exports });
  try {
    vm.runInContext(source, context, { filename, timeout });
  } catch (error) {
    throw new ModelImportError(`${filename} does not evaluate as a module: ${(error as Error).message}`);
  }
  return module.exports;
}

/** A plain copy made in this realm: the module's objects belong to the vm context. */
const plain = (value: unknown): unknown => (typeof value === 'string' ? value : JSON.parse(JSON.stringify(value ?? null)));

/** A shard path from the manifest, resolved inside `dir` only. */
function shardFile(dir: string, shard: string, suffix: string): string {
  const file = path.resolve(dir, shard + suffix);
  if (path.isAbsolute(shard) || path.relative(dir, file).startsWith('..'))
    throw new ModelImportError(`weights manifest path ${JSON.stringify(shard)} leaves the model folder`);
  if (!existsSync(file)) throw new ModelImportError(`weight shard ${path.basename(file)} is missing`);
  return file;
}

function checkModel(raw: unknown, file: string): TfjsLayersModel['model'] {
  const model = raw as Partial<LayersModelJson>;
  if (typeof model !== 'object' || model === null || typeof model.modelTopology !== 'object')
    throw new ModelImportError(`${file} holds no modelTopology`);
  if (model.weightsManifest !== undefined && !Array.isArray(model.weightsManifest))
    throw new ModelImportError(`${file}: weightsManifest is not a list`);
  return { ...model, modelTopology: model.modelTopology, weightsManifest: model.weightsManifest ?? [] };
}

const paths = (groups: WeightsGroup[]) => groups.flatMap((group) => (Array.isArray(group.paths) ? group.paths : []));

const toArrayBuffer = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

function readJsonForm(dir: string): TfjsLayersModel {
  const file = path.join(dir, 'model.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelImportError(`model.json is not JSON: ${(error as Error).message}`);
  }
  const model = checkModel(parsed, 'model.json');
  const weightData = paths(model.weightsManifest).map((shard) => toArrayBuffer(readFileSync(shardFile(dir, shard, ''))));
  return { model, weightData, format: 'json' };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function readMinJsForm(dir: string, timeout?: number): TfjsLayersModel {
  const source = readFileSync(path.join(dir, 'model.min.js'), 'utf8');
  const model = checkModel(plain(evaluateModuleExports(source, 'model.min.js', timeout)), 'model.min.js');
  const weightData = paths(model.weightsManifest).map((shard) => {
    const file = shardFile(dir, shard, '.min.js');
    const exported = evaluateModuleExports(readFileSync(file, 'utf8'), path.basename(file), timeout);
    if (typeof exported !== 'string' || !BASE64.test(exported))
      throw new ModelImportError(`${path.basename(file)} does not export the shard's bytes as a base64 string`);
    return toArrayBuffer(Buffer.from(exported, 'base64'));
  });
  return { model, weightData, format: 'min.js' };
}

/** The model in `dir`: model.json (preferred) or model.min.js, with its shards. */
export function readTfjsLayersModel(dir: string, options: ReadOptions = {}): TfjsLayersModel {
  if (existsSync(path.join(dir, 'model.json'))) return readJsonForm(dir);
  if (existsSync(path.join(dir, 'model.min.js'))) return readMinJsForm(dir, options.evaluationTimeoutMs);
  throw new ModelImportError(`no model.json or model.min.js in ${path.basename(dir)}`);
}
