/**
 * The demo model's manifest: what the predict function reads to preprocess an upload for it.
 * Training data goes through `preprocess` with this same manifest, so training and serving see
 * identical tensors.
 */
import { type ModelManifest, validateManifest } from '../../shared/predict/manifest';
import { SHAPE_LABELS } from './shapes';

/** Side of the model input. 32x32 is enough to tell the shapes apart and keeps JS training to minutes. */
export const SHAPES_INPUT_SIZE = 32;

export const SHAPES_MANIFEST: ModelManifest = validateManifest({
  name: 'shapes',
  version: '1',
  inputName: 'image',
  width: SHAPES_INPUT_SIZE,
  height: SHAPES_INPUT_SIZE,
  layout: 'NCHW',
  channelOrder: 'RGB',
  scale: 255,
  // Colours are uniform over 0..255 by construction, so inputs are centred on 0.5; 0.25 brings
  // them to about unit spread. Fixed numbers rather than measured ones keep the manifest stable.
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  // `cover` keeps a photo's aspect ratio (crops the centre); the synthetic pictures are square, so
  // for them cover and fill are the same.
  fit: 'cover',
  outputName: 'probabilities',
  outputType: 'probabilities',
  labels: [...SHAPE_LABELS],
});
