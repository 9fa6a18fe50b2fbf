import { ManifestError, parseManifest, validateManifest } from '../../shared/predict/manifest';

const valid = {
  name: 'shapes',
  version: '1',
  inputName: 'input',
  width: 32,
  height: 32,
  layout: 'NCHW',
  channelOrder: 'RGB',
  scale: 255,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  fit: 'fill',
  outputName: 'probabilities',
  outputType: 'probabilities',
  labels: ['circle', 'square'],
};

const fieldOf = (raw: unknown) => {
  try {
    validateManifest(raw);
  } catch (error) {
    if (error instanceof ManifestError) return error.field;
    throw error;
  }
  return 'valid';
};

describe('validateManifest', () => {
  test('accepts a complete manifest', () => {
    expect(validateManifest(valid)).toEqual(valid);
  });

  test('fit defaults to cover (ImageNet-style centre crop); a numeric version is accepted as text', () => {
    const { fit: _fit, ...withoutFit } = valid;
    expect(validateManifest({ ...withoutFit, version: 3 })).toMatchObject({ fit: 'cover', version: '3' });
  });

  test.each([
    ['name', { name: '' }],
    ['version', { version: '' }],
    ['inputName', { inputName: 7 }],
    ['width', { width: 0 }],
    ['width', { width: 22.5 }],
    ['height', { height: 100000 }],
    ['layout', { layout: 'CHW' }],
    ['channelOrder', { channelOrder: 'RGBA' }],
    ['scale', { scale: -1 }],
    ['mean', { mean: [0.5, 0.5] }],
    ['std', { std: [0.2, 0, 0.2] }],
    ['fit', { fit: 'stretch' }],
    ['outputName', { outputName: undefined }],
    ['outputType', { outputType: 'scores' }],
    ['labels', { labels: ['only-one'] }],
    ['labels', { labels: 'circle,square' }],
  ])('names the bad field %s', (field, change) => {
    expect(fieldOf({ ...valid, ...change })).toBe(field);
  });

  test('the message says what was expected and what came', () => {
    expect(() => validateManifest({ ...valid, layout: 'CHW' })).toThrow(
      'Invalid model manifest field "layout": expected one of NCHW, NHWC, got "CHW"',
    );
  });

  test('parseManifest refuses text that is not JSON', () => {
    expect(() => parseManifest('{ nope')).toThrow(ManifestError);
    expect(() => parseManifest('[]')).toThrow(/\(root\)/);
  });
});
