/** Why a TF.js Layers model cannot be imported: thrown before anything is written. */
export class ModelImportError extends Error {
  /** The Keras layer at fault, when there is one. */
  readonly layer?: { name: string; className: string };

  constructor(message: string, layer?: { name: string; className: string }) {
    super(layer ? `layer "${layer.name}" (${layer.className}): ${message}` : message);
    this.name = 'ModelImportError';
    if (layer) this.layer = { name: layer.name, className: layer.className };
  }
}
