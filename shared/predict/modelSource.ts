import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { S3Client } from '@aws-sdk/client-s3';
import { type PredictionConfig, parseModelUri } from '../config';
import type { ModelSource } from './modelCache';
import { fetchModelFiles, fetchModelFingerprint, parseS3Uri } from './modelStore';

/**
 * Where the active model lives: MODEL_URI, or on AWS the SSM parameter MODEL_URI_PARAMETER (read
 * through Powertools Parameters, cached for the refresh interval), so that switching model is a
 * parameter change rather than a deploy.
 */
export function createModelSource(prediction: PredictionConfig, s3: S3Client): ModelSource {
  const { modelUriParameter, modelRefreshSeconds } = prediction;
  return {
    resolveUri: modelUriParameter
      ? async () => {
          const value = await getParameter(modelUriParameter, { maxAge: modelRefreshSeconds });
          if (!value) throw new Error(`SSM parameter ${modelUriParameter} is empty`);
          return parseModelUri(modelUriParameter, value);
        }
      : async () => prediction.modelUri,
    fetch: (uri) => fetchModelFiles(s3, parseS3Uri(uri)),
    fingerprint: (uri) => fetchModelFingerprint(s3, parseS3Uri(uri)),
  };
}
