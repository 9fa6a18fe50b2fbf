import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { normalizeETag, type S3ObjectEvent } from '../events';
import { probeImage } from '../image/probe';
import { classifySharpError } from '../image/sharpErrors';
import { isFlaggedOutput, obscureWrittenThumbnails } from '../moderation/enforce';
import { type Moderation, moderate, type Verdict } from '../moderation/policy';
import { METRICS, MetricUnit, traced } from '../observability';
import { isOutputOf, METADATA, outputMetadata, predictionKey } from '../outputs';
import { assertReadableSource, downloadSource, writeFromCurrentSource } from '../sourceObject';
import { deleteObjects, headObjectMetadata, putObject } from '../storage';
import type { Classifier } from './classifier';
import type { ModelCache } from './modelCache';
import { preprocess } from './preprocess';
import { type LabelScore, topK } from './scores';

export interface PredictDependencies {
  config: PipelineConfig;
  s3: S3Client;
  tracer: Tracer;
  metrics: Metrics;
  models: ModelCache;
}

/** What `predictions/<source key>.json` holds. */
interface Prediction {
  source: { bucket: string; key: string; eTag?: string; format: string; width: number; height: number };
  model: { name: string; version: string; uri: string };
  labels: LabelScore[];
  moderation: Moderation;
  timings: { downloadMs: number; preprocessMs: number; inferenceMs: number };
  createdAt: string;
}

/** What the thumbnails of a flagged upload needed: see obscureWrittenThumbnails. */
type ObscureResult = 'clean' | 'obscured' | 'already-obscured' | 'not-written';

export type PredictOutcome =
  | { status: 'written'; eTag: string; key: string; top: LabelScore | undefined; verdict: Verdict; thumbnails: ObscureResult }
  | { status: 'duplicate-skipped'; eTag: string; key: string; thumbnails?: ObscureResult }
  | { status: 'source-missing' }
  | { status: 'deleted'; key: string };

const toHundredths = (ms: number) => Math.round(ms * 100) / 100;
const elapsed = (since: number) => toHundredths(performance.now() - since);

export interface ClassifiedImage {
  image: { format: string; width: number; height: number };
  labels: LabelScore[];
  moderation: Moderation;
  timings: { preprocessMs: number; inferenceMs: number };
}

/**
 * Validates exactly as the resize path does (format from the bytes, pixel and frame limits from
 * the header, before decoding), then preprocesses and runs the model: what the predict function
 * and `pipeline predict` share.
 */
export async function classifyImage(
  data: Buffer,
  classifier: Classifier,
  config: PipelineConfig,
  tracer?: Tracer,
): Promise<ClassifiedImage> {
  const step = <T>(name: string, fn: () => Promise<T>) => (tracer ? traced(tracer, name, fn) : fn());
  let started = performance.now();
  const { probed, tensor } = await step('preprocess', async () => {
    const probed = await probeImage(data, config.limits);
    const tensor = await preprocess(data, classifier.manifest, config.limits.maxInputPixels).catch((error) => {
      throw classifySharpError(error);
    });
    return { probed, tensor };
  });
  const preprocessMs = elapsed(started);
  started = performance.now();
  const probabilities = await step('inference', () => classifier.classify(tensor));
  // Every label, best first: the policy judges them all, the prediction keeps the top k.
  const ranked = topK(probabilities, classifier.manifest.labels, classifier.manifest.labels.length);
  return {
    image: { format: probed.format, width: probed.width, height: probed.height },
    labels: ranked.slice(0, config.prediction.topK),
    moderation: moderate(ranked, config.moderation),
    timings: { preprocessMs, inferenceMs: elapsed(started) },
  };
}

/** Classifies one uploaded image with the active model; validation is the resize path's own (probe before decode). */
export async function predictObject(event: S3ObjectEvent, deps: PredictDependencies): Promise<PredictOutcome> {
  const { config, s3, tracer, metrics, models } = deps;
  assertReadableSource(event, config);
  const key = predictionKey(event.key);
  const model = await traced(tracer, 'model-load', () => models.get()).catch(async (error: unknown) => {
    // A model that cannot be loaded is retried; an upload that is no image must not be retried with
    // it, so it is judged first, as the resize function judges it.
    const source = await downloadSource(event, deps);
    if (source) await probeImage(source.data, config.limits);
    throw error;
  });
  const { manifest } = model.classifier;
  const modelId = `${manifest.name}/${manifest.version}`;
  const eventETag = normalizeETag(event.eTag);
  if (eventETag && !event.force) {
    const existing = await headObjectMetadata(s3, config.buckets.thumbnails, key);
    if (isOutputOf(existing, eventETag, { [METADATA.model]: modelId })) {
      metrics.addMetric(METRICS.duplicatesSkipped, MetricUnit.Count, 1);
      // A run that wrote a flagged prediction may have stopped before it obscured the thumbnails.
      if (!isFlaggedOutput(existing, eventETag)) return { status: 'duplicate-skipped', eTag: eventETag, key };
      const source = { bucket: event.bucket, key: event.key, eTag: eventETag, data: async () => (await downloadSource(event, deps))?.data };
      return { status: 'duplicate-skipped', eTag: eventETag, key, thumbnails: await obscureWrittenThumbnails(source, deps) };
    }
  }

  const result = await writeFromCurrentSource(event, deps, [key], async (source, downloadMs) => {
    const classified = await classifyImage(source.data, model.classifier, config, tracer);
    const sourceVersion = { bucket: event.bucket, key: event.key, eTag: source.eTag ?? eventETag ?? '' };
    const written: Prediction = {
      source: { bucket: event.bucket, key: event.key, eTag: source.eTag, ...classified.image },
      model: { name: manifest.name, version: manifest.version, uri: model.uri },
      labels: classified.labels,
      moderation: classified.moderation,
      timings: { downloadMs: toHundredths(downloadMs), ...classified.timings },
      createdAt: new Date().toISOString(),
    };
    await putObject(s3, {
      bucket: config.buckets.thumbnails,
      key,
      body: Buffer.from(JSON.stringify(written, null, 2)),
      contentType: 'application/json',
      metadata: outputMetadata(sourceVersion, { [METADATA.model]: modelId, [METADATA.moderation]: classified.moderation.verdict }),
    });
    // Written first, then looked at the thumbnails: see moderation/enforce.ts for why this order.
    const thumbnails: ObscureResult =
      classified.moderation.verdict === 'flagged' ? await obscureWrittenThumbnails({ ...sourceVersion, data: source.data }, deps) : 'clean';
    return { written, thumbnails };
  });
  if (!result) return { status: 'source-missing' };
  const { written: prediction, thumbnails } = result;
  metrics.addMetric(METRICS.inferenceMs, MetricUnit.Milliseconds, prediction.timings.inferenceMs);
  metrics.addMetric(METRICS.predictionsWritten, MetricUnit.Count, 1);
  if (prediction.moderation.verdict === 'flagged') metrics.addMetric(METRICS.imagesFlagged, MetricUnit.Count, 1);
  const eTag = prediction.source.eTag ?? eventETag ?? '';
  return { status: 'written', eTag, key, top: prediction.labels[0], verdict: prediction.moderation.verdict, thumbnails };
}

/** A deleted source takes its prediction with it. */
export async function removePrediction(event: S3ObjectEvent, deps: PredictDependencies): Promise<PredictOutcome> {
  assertReadableSource(event, deps.config);
  const key = predictionKey(event.key);
  await deleteObjects(deps.s3, deps.config.buckets.thumbnails, [key]);
  return { status: 'deleted', key };
}
