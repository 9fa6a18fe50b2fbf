/**
 * readTfjsLayersModel: model.json with several shards, the model.min.js form nsfwjs publishes
 * (UMD modules exporting the model.json object and each shard as base64), and what it refuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { convertLayersModel, ModelImportError, readTfjsLayersModel, type WeightsGroup } from '../../ops/modelImport';
import { concatWeightData } from '../../ops/modelImport/weights';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'model-import-loader-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Input 3 -> Dense 2: kernel [3, 2] then bias [2], 8 floats in all. */
const topology = {
  class_name: 'Sequential',
  config: {
    name: 'tiny',
    layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'linear', use_bias: true, batch_input_shape: [null, 3] } }],
  },
};
const kernel = [1, 2, 3, 4, 5, 6];
const bias = [0.5, -0.5];
const bytes = new Uint8Array(Float32Array.from([...kernel, ...bias]).buffer);

const manifest = (paths: string[]): WeightsGroup[] => [
  {
    paths,
    weights: [
      { name: 'd/kernel', shape: [3, 2], dtype: 'float32' },
      { name: 'd/bias', shape: [2], dtype: 'float32' },
    ],
  },
];

/** The way nsfwjs's bundles start: a UMD wrapper that assigns module.exports when there is a module. */
const umd = (value: unknown) =>
  `!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();else{("undefined"!=typeof window?window:this).x=e()}}(function(){return ${JSON.stringify(value)}});`;

test('model.json with weights split over three shards, in manifest order', () => {
  const paths = ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'];
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: topology, weightsManifest: manifest(paths) }));
  writeFileSync(path.join(dir, paths[0]), bytes.subarray(0, 10));
  writeFileSync(path.join(dir, paths[1]), bytes.subarray(10, 13));
  writeFileSync(path.join(dir, paths[2]), bytes.subarray(13));
  const loaded = readTfjsLayersModel(dir);
  expect(loaded.format).toBe('json');
  expect(loaded.weightData.map((b) => b.byteLength)).toEqual([10, 3, 19]);
  expect(concatWeightData(loaded.weightData)).toEqual(bytes);
  expect(convertLayersModel(loaded.model, loaded.weightData).outputShape).toEqual([2]);
});

test('model.min.js and group1-shard*.min.js modules, base64 shards', () => {
  const paths = ['group1-shard1of2', 'group1-shard2of2'];
  writeFileSync(path.join(dir, 'model.min.js'), umd({ modelTopology: topology, weightsManifest: manifest(paths) }));
  writeFileSync(path.join(dir, 'group1-shard1of2.min.js'), umd(Buffer.from(bytes.subarray(0, 16)).toString('base64')));
  writeFileSync(path.join(dir, 'group1-shard2of2.min.js'), umd(Buffer.from(bytes.subarray(16)).toString('base64')));
  const loaded = readTfjsLayersModel(dir);
  expect(loaded.format).toBe('min.js');
  expect(concatWeightData(loaded.weightData)).toEqual(bytes);
  expect(Object.getPrototypeOf(loaded.model)).toBe(Object.prototype);
});

test('the modules run with nothing to reach: no require, process or globals', () => {
  writeFileSync(path.join(dir, 'model.min.js'), 'module.exports = { modelTopology: require("node:fs").readdirSync("/") };');
  expect(() => readTfjsLayersModel(dir)).toThrow(/model.min.js does not evaluate as a module: require is not defined/);
  writeFileSync(path.join(dir, 'model.min.js'), 'module.exports = { modelTopology: { env: process.env } };');
  expect(() => readTfjsLayersModel(dir)).toThrow(/process is not defined/);
  writeFileSync(path.join(dir, 'model.min.js'), 'while (true) {}');
  expect(() => readTfjsLayersModel(dir, { evaluationTimeoutMs: 200 })).toThrow(/timed out/);
});

test('shard paths that leave the folder, missing shards and non-base64 shards are refused', () => {
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: topology, weightsManifest: manifest(['../outside.bin']) }));
  expect(() => readTfjsLayersModel(dir)).toThrow(/leaves the model folder/);
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: topology, weightsManifest: manifest(['absent.bin']) }));
  expect(() => readTfjsLayersModel(dir)).toThrow(/absent.bin is missing/);
  rmSync(path.join(dir, 'model.json'));
  writeFileSync(path.join(dir, 'model.min.js'), umd({ modelTopology: topology, weightsManifest: manifest(['s']) }));
  writeFileSync(path.join(dir, 's.min.js'), umd({ not: 'a string' }));
  expect(() => readTfjsLayersModel(dir)).toThrow(/does not export the shard's bytes as a base64 string/);
  rmSync(path.join(dir, 'model.min.js'));
  expect(() => readTfjsLayersModel(dir)).toThrow(ModelImportError);
});
