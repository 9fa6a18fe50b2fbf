import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { normalizeETag, type S3ObjectEvent } from '../events';
import { probeImage } from '../image/probe';
import { classifySharpError } from '../image/sharpErrors';
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
  timings: { downloadMs: number; preprocessMs: number; inferenceMs: number };
  createdAt: string;
}

export type PredictOutcome =
  | { status: 'written'; key: string; top: LabelScore | undefined }
  | { status: 'duplicate-skipped'; key: string }
  | { status: 'source-missing' }
  | { status: 'deleted'; key: string };

const toHundredths = (ms: number) => Math.round(ms * 100) / 100;
const elapsed = (since: number) => toHundredths(performance.now() - since);

export interface ClassifiedImage {
  image: { format: string; width: number; height: number };
  labels: LabelScore[];
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
  return {
    image: { format: probed.format, width: probed.width, height: probed.height },
    labels: topK(probabilities, classifier.manifest.labels, config.prediction.topK),
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
  if (eventETag) {
    if (isOutputOf(await headObjectMetadata(s3, config.buckets.thumbnails, key), eventETag, { [METADATA.model]: modelId })) {
      metrics.addMetric(METRICS.duplicatesSkipped, MetricUnit.Count, 1);
      return { status: 'duplicate-skipped', key };
    }
  }

  const prediction = await writeFromCurrentSource(event, deps, [key], async (source, downloadMs) => {
    const classified = await classifyImage(source.data, model.classifier, config, tracer);
    const written: Prediction = {
      source: { bucket: event.bucket, key: event.key, eTag: source.eTag, ...classified.image },
      model: { name: manifest.name, version: manifest.version, uri: model.uri },
      labels: classified.labels,
      timings: { downloadMs: toHundredths(downloadMs), ...classified.timings },
      createdAt: new Date().toISOString(),
    };
    await putObject(s3, {
      bucket: config.buckets.thumbnails,
      key,
      body: Buffer.from(JSON.stringify(written, null, 2)),
      contentType: 'application/json',
      metadata: outputMetadata(
        { bucket: event.bucket, key: event.key, eTag: source.eTag ?? eventETag ?? '' },
        { [METADATA.model]: modelId },
      ),
    });
    return written;
  });
  if (!prediction) return { status: 'source-missing' };
  metrics.addMetric(METRICS.inferenceMs, MetricUnit.Milliseconds, prediction.timings.inferenceMs);
  metrics.addMetric(METRICS.predictionsWritten, MetricUnit.Count, 1);
  return { status: 'written', key, top: prediction.labels[0] };
}

/** A deleted source takes its prediction with it. */
export async function removePrediction(event: S3ObjectEvent, deps: PredictDependencies): Promise<PredictOutcome> {
  assertReadableSource(event, deps.config);
  const key = predictionKey(event.key);
  await deleteObjects(deps.s3, deps.config.buckets.thumbnails, [key]);
  return { status: 'deleted', key };
}
