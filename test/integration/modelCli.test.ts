import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateManifest } from '../../shared/predict/manifest';
import { type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';
import { runCli } from '../helpers/runCli';

/** The model commands as a user runs them: `model import` then `model upload` of a TF.js model against the embedded S3, and `predict` on a file. */

const ROOT = path.resolve(__dirname, '../..');
const NSFWJS_MOBILENET = path.join(ROOT, 'node_modules', 'nsfwjs', 'dist', 'models', 'mobilenet_v2');
const LABELS = 'Drawing,Hentai,Neutral,Porn,Sexy';
const scratch = mkdtempSync(path.join(tmpdir(), 'pipeline-model-import-'));
let harness: HandlerHarness;
let env: Record<string, string>;

beforeAll(async () => {
  harness = await startHandlerHarness();
  env = {
    PIPELINE_STATE_DIR: path.join(scratch, 'state'),
    S3_PORT: new URL(harness.servers.s3Endpoint).port,
    SQS_PORT: new URL(harness.servers.sqsEndpoint).port,
  };
});
afterAll(async () => {
  await harness.close();
  rmSync(scratch, { recursive: true, force: true });
});

test("nsfwjs's MobileNetV2 is imported into the pipeline's model format and then uploads", async () => {
  const out = path.join(scratch, 'moderation');
  const imported = await runCli(
    ['model', 'import', NSFWJS_MOBILENET, '--out', out, '--labels', LABELS, '--name', 'nsfw', '--version', '7'],
    env,
  );
  expect(imported.code).toBe(0);
  expect(JSON.parse(imported.out[0])).toMatchObject({
    ok: true,
    name: 'nsfw',
    version: '7',
    input: [224, 224, 3],
    labels: LABELS.split(','),
  });
  const manifest = validateManifest(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')));
  expect(manifest).toMatchObject({
    layout: 'NHWC',
    width: 224,
    height: 224,
    channelOrder: 'RGB',
    scale: 255,
    fit: 'fill',
    outputType: 'probabilities',
  });

  const uploaded = await runCli(['model', 'upload', out], env);
  expect(uploaded.code).toBe(0);
  expect(JSON.parse(uploaded.out[0])).toMatchObject({ ok: true, uri: 's3://models/nsfw/7/' });
  expect(await harness.exists('models', 'nsfw/7/model.onnx')).toBe(true);
  expect(await harness.exists('models', 'nsfw/7/manifest.json')).toBe(true);
}, 60_000);

test('an unsupported layer is named, with exit code 1, and nothing is written', async () => {
  const source = path.join(scratch, 'lstm');
  mkdirSync(source, { recursive: true });
  writeFileSync(
    path.join(source, 'model.json'),
    JSON.stringify({
      modelTopology: {
        class_name: 'Sequential',
        config: { name: 'seq', layers: [{ class_name: 'LSTM', config: { name: 'memory', units: 4, batch_input_shape: [null, 3, 2] } }] },
      },
      weightsManifest: [],
    }),
  );
  const out = path.join(scratch, 'lstm-out');
  const result = await runCli(['model', 'import', source, '--out', out, '--labels', 'a,b'], env);
  expect(result.code).toBe(1);
  expect(result.err).toHaveLength(1);
  expect(result.err[0]).toMatch(/^pipeline model import: cannot import .*lstm: .*"memory" \(LSTM\)/);
  expect(existsSync(out)).toBe(false);
});

test('labels that do not match the number of outputs are refused and nothing is kept', async () => {
  const out = path.join(scratch, 'three-labels');
  const result = await runCli(['model', 'import', NSFWJS_MOBILENET, '--out', out, '--labels', 'a,b,c'], env);
  expect(result.code).toBe(1);
  expect(result.err[0]).toMatch(/^pipeline model import: .*(5 scores|5 outputs|labels)/);
  expect(existsSync(path.join(out, 'model.onnx'))).toBe(false);
}, 60_000);

test('pipeline predict on a file uses the default moderation model and prints every label with the verdict', async () => {
  const result = await runCli(['predict', path.join(ROOT, 'events', 'samples', 'landscape.jpg')], env);
  expect(result.code).toBe(0);
  const printed = JSON.parse(result.out[0]);
  expect(printed.model).toMatchObject({ name: 'moderation', version: '1' });
  expect(printed.labels.map((entry: { label: string }) => entry.label).sort()).toEqual(LABELS.split(',').sort());
  expect(printed.labels[0].label).toBe('Neutral');
  expect(printed.moderation).toMatchObject({
    verdict: 'clean',
    flaggedBy: [],
    policy: { flag: { Porn: 0.8, Hentai: 0.8, Sexy: 0.9 }, applicable: true },
  });
  const flagged = await runCli(['predict', path.join(ROOT, 'events', 'samples', 'landscape.jpg')], {
    ...env,
    MODERATION_FLAG: 'Neutral=0.5',
  });
  expect(JSON.parse(flagged.out[0]).moderation).toMatchObject({ verdict: 'flagged', flaggedBy: [{ label: 'Neutral', threshold: 0.5 }] });
});
