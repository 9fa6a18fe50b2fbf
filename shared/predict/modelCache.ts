import { TransientError } from '../errors';
import { type Classifier, createClassifier } from './classifier';
import { parseManifest } from './manifest';
import type { ModelFiles } from './modelStore';

export interface LoadedModel {
  uri: string;
  fingerprint: string;
  classifier: Classifier;
  loadMs: number;
}

export interface ModelSource {
  /** Which model is active (MODEL_URI, or the SSM parameter naming it). */
  resolveUri(): Promise<string>;
  fetch(uri: string): Promise<ModelFiles>;
  fingerprint(uri: string): Promise<string>;
}

export interface ModelCacheOptions {
  source: ModelSource;
  threads: number;
  refreshMs: number;
  now?: () => number;
  onLoad?: (model: LoadedModel, swapped: boolean) => void;
  onRefreshError?: (error: unknown) => void;
}

/**
 * Keeps one model in memory across invocations. At most every `refreshMs` it re-resolves which
 * model is active and compares the ETags of its files (two HEAD requests); on a change it loads
 * the new model and swaps it in, with no redeploy. A model that cannot be loaded is a transient
 * `model-unavailable` failure: the record is retried and, if the model stays broken, dead-lettered
 * with that reason. A failed refresh keeps serving the model already loaded.
 */
export class ModelCache {
  private current?: LoadedModel;
  private checkedAt = 0;
  private pending?: Promise<LoadedModel>;
  private readonly now: () => number;

  constructor(private readonly options: ModelCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get(): Promise<LoadedModel> {
    if (this.current && this.now() - this.checkedAt < this.options.refreshMs) return Promise.resolve(this.current);
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async refresh(): Promise<LoadedModel> {
    const previous = this.current;
    if (previous) {
      try {
        const uri = await this.options.source.resolveUri();
        const unchanged = uri === previous.uri && (await this.options.source.fingerprint(uri)) === previous.fingerprint;
        this.checkedAt = this.now();
        if (unchanged) return previous;
        this.current = await this.load(uri);
        this.options.onLoad?.(this.current, true);
        await previous.classifier.release();
      } catch (error) {
        this.checkedAt = this.now();
        this.options.onRefreshError?.(error);
      }
      return this.current ?? previous;
    }
    const uri = await this.options.source.resolveUri().catch((error) => {
      throw new TransientError('model-unavailable', `cannot resolve the active model: ${(error as Error).message}`, { cause: error });
    });
    this.current = await this.load(uri);
    this.checkedAt = this.now();
    this.options.onLoad?.(this.current, false);
    return this.current;
  }

  private async load(uri: string): Promise<LoadedModel> {
    const started = performance.now();
    try {
      const files = await this.options.source.fetch(uri);
      const manifest = parseManifest(files.manifestText);
      const classifier = await createClassifier(files.model, manifest, this.options.threads);
      return { uri, fingerprint: files.fingerprint, classifier, loadMs: performance.now() - started };
    } catch (error) {
      throw new TransientError('model-unavailable', `cannot load the model at ${uri}: ${(error as Error).message}`, { cause: error });
    }
  }
}
