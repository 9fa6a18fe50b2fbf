import { deadLetterQueueUrl, declaredConfig, loadConfig, requireSetting, validateDeclaredConfig } from '../../shared/config';
import { ConfigError } from '../../shared/errors';

const settingOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.setting;
    throw error;
  }
  return undefined;
};

describe('loadConfig', () => {
  test('defaults come from pipeline.config.json', () => {
    const config = loadConfig({});
    expect(config.thumbnails).toEqual({ sizes: [1024, 512, 256], format: 'webp', quality: 80 });
    expect(config.buckets).toEqual({ uploads: 'uploads', thumbnails: 'thumbnails', models: 'models' });
  });

  test('the environment overrides, as serverless.yml sets it', () => {
    const config = loadConfig({
      UPLOADS_BUCKET: 'svc-prod-uploads',
      THUMBNAILS_BUCKET: 'svc-prod-thumbs',
      THUMBNAIL_SIZES: '128, 640',
      THUMBNAIL_FORMAT: 'AVIF',
      THUMBNAIL_QUALITY: '60',
      MAX_INPUT_PIXELS: '1000',
    });
    expect(config.buckets.uploads).toBe('svc-prod-uploads');
    expect(config.thumbnails).toEqual({ sizes: [640, 128], format: 'avif', quality: 60 });
    expect(config.limits.maxInputPixels).toBe(1000);
    expect(config.queues).toEqual(declaredConfig.queues);
  });

  test("each function's DLQ comes from its own variable, and a missing one names the variable", () => {
    const env = { RESIZE_DLQ_URL: 'https://sqs.example/resize-dlq', PREDICT_DLQ_URL: 'https://sqs.example/predict-dlq' };
    expect(deadLetterQueueUrl('resize', env)).toBe('https://sqs.example/resize-dlq');
    expect(deadLetterQueueUrl('predict', env)).toBe('https://sqs.example/predict-dlq');
    expect(settingOf(() => deadLetterQueueUrl('thumb-extra', env))).toBe('THUMB_EXTRA_DLQ_URL');
  });

  test.each([
    [{ THUMBNAIL_SIZES: '' }, 'THUMBNAIL_SIZES'],
    [{ THUMBNAIL_SIZES: '256,abc' }, 'THUMBNAIL_SIZES'],
    [{ THUMBNAIL_SIZES: '256,256' }, 'THUMBNAIL_SIZES'],
    [{ THUMBNAIL_SIZES: '0' }, 'THUMBNAIL_SIZES'],
    [{ THUMBNAIL_SIZES: '20000' }, 'THUMBNAIL_SIZES'],
    [{ THUMBNAIL_FORMAT: 'gif' }, 'THUMBNAIL_FORMAT'],
    [{ THUMBNAIL_QUALITY: '101' }, 'THUMBNAIL_QUALITY'],
    [{ THUMBNAIL_QUALITY: '7.5' }, 'THUMBNAIL_QUALITY'],
    [{ MAX_INPUT_BYTES: '-1' }, 'MAX_INPUT_BYTES'],
    [{ MAX_FRAMES: 'many' }, 'MAX_FRAMES'],
    [{ UPLOADS_BUCKET: ' ' }, 'UPLOADS_BUCKET'],
    [{ UPLOADS_BUCKET: 'same', THUMBNAILS_BUCKET: 'same' }, 'THUMBNAILS_BUCKET'],
  ])('%p is refused with an error naming %s', (env, setting) => {
    expect(settingOf(() => loadConfig(env))).toBe(setting);
  });

  test('the message names the bad value', () => {
    expect(() => loadConfig({ THUMBNAIL_FORMAT: 'gif' })).toThrow(/THUMBNAIL_FORMAT.*"gif"/);
  });

  test('requireSetting fails the cold start naming the missing setting', () => {
    expect(() => requireSetting(undefined, 'RESIZE_DLQ_URL')).toThrow('Invalid configuration RESIZE_DLQ_URL: is required but not set');
    expect(requireSetting('x', 'RESIZE_DLQ_URL')).toBe('x');
  });
});

describe('validateDeclaredConfig', () => {
  const withChanges = (change: (config: typeof declaredConfig) => void) => {
    const copy = structuredClone(declaredConfig);
    change(copy);
    return copy;
  };

  test('the committed configuration is valid', () => {
    expect(() => validateDeclaredConfig()).not.toThrow();
  });

  test('visibility timeout under 6x a function timeout is refused', () => {
    const bad = withChanges((c) => (c.queues.visibilityTimeoutSeconds = 5 * c.functions.resize.timeoutSeconds));
    expect(settingOf(() => validateDeclaredConfig(bad))).toBe('queues.visibilityTimeoutSeconds');
  });

  test('maxReceiveCount under 5 is refused', () => {
    expect(settingOf(() => validateDeclaredConfig(withChanges((c) => (c.queues.maxReceiveCount = 2))))).toBe('queues.maxReceiveCount');
  });

  test('a batch over 10 without a batching window is refused', () => {
    const bad = withChanges((c) => {
      c.functions.resize.batchSize = 50;
      c.functions.resize.batchWindowSeconds = 0;
    });
    expect(settingOf(() => validateDeclaredConfig(bad))).toBe('functions.resize.batchWindowSeconds');
  });
});
