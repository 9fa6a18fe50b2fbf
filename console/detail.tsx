import { useEffect, useState } from 'preact/hooks';
import type { ImageView } from '../shared/api/types';
import { api } from './api';
import { ErrorNote, FlagBadge, Reason, StatusBadge, useAnnounce } from './common';
import { filenameOf, formatBytes, formatTime, POLL_MS, percent, thumbnailSources, unsettled } from './format';

/**
 * One image: every thumbnail, the prediction, the moderation verdict, the catalogue record, delete.
 * An image not recorded yet or still changing is asked about again until it settles.
 */

export function Detail({ imageKey, onDeleted }: { imageKey: string; onDeleted: (key: string) => void }) {
  const [image, setImage] = useState<ImageView | null>();
  const [error, setError] = useState<unknown>();
  const [deleting, setDeleting] = useState<'no' | 'busy' | 'done'>('no');
  const announce = useAnnounce();

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setImage(undefined);
    setError(undefined);
    const load = () =>
      api.image(imageKey).then(
        (found) => {
          if (!live) return;
          setImage(found);
          if (found === null || unsettled(found)) timer = setTimeout(load, POLL_MS);
        },
        (caught) => live && setError(caught),
      );
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [imageKey]);

  const name = filenameOf(imageKey);

  async function remove() {
    if (!confirm(`Delete ${name}? The upload, its thumbnails, its prediction and its record are removed.`)) return;
    setDeleting('busy');
    setError(undefined);
    try {
      await api.remove(imageKey);
      setDeleting('done');
      announce(`${name} is being deleted`);
      onDeleted(imageKey);
    } catch (caught) {
      setDeleting('no');
      setError(caught);
    }
  }

  return (
    <section aria-labelledby="detail-title">
      <p>
        <a href="#/">← Back to the gallery</a>
      </p>
      <h2 id="detail-title">{name}</h2>
      <p class="muted key">{imageKey}</p>
      <ErrorNote error={error} what="The image could not be loaded or deleted" />
      {image === undefined && !error && <p>Loading…</p>}
      {image === null && <p>The catalogue has no record of this key (yet): the pipeline may not have seen it, or it was deleted.</p>}
      {image && <Record image={image} />}
      {image && (
        <p>
          {deleting === 'done' ? (
            <strong role="status">Deleting: the pipeline removes its outputs and its record in a moment.</strong>
          ) : (
            <button type="button" class="danger" onClick={remove} disabled={deleting === 'busy'}>
              Delete {name}
            </button>
          )}
        </p>
      )}
    </section>
  );
}

function Record({ image }: { image: ImageView }) {
  const sources = thumbnailSources(image);
  const { thumbnails } = image;
  const flagged = image.moderation?.verdict === 'flagged';
  const [modelName, modelVersion] = (image.prediction?.model ?? '').split('/');
  return (
    <>
      <p>
        <StatusBadge status={image.status} /> uploaded {formatTime(image.source.uploadedAt)}, {formatBytes(image.source.size)}
        {image.source.format ? `, ${image.source.format}` : ''}
        {image.source.width ? `, ${image.source.width}×${image.source.height}` : ''}
      </p>
      {image.failure && <Reason reason={image.failure.reason} message={image.failure.message} />}
      {sources && (
        <div class={`hero${flagged ? ' flagged' : ''}`}>
          <img src={sources.src} srcset={sources.srcset} sizes="(max-width: 600px) 90vw, 512px" alt={filenameOf(image.key)} />
          {flagged && <FlagBadge flaggedBy={image.moderation?.flaggedBy ?? []} />}
        </div>
      )}

      <h3>Thumbnails</h3>
      {thumbnails.length === 0 ? (
        <p>
          {flagged
            ? 'None handed out yet: flagged, they are being stored obscured.'
            : image.moderation
              ? 'None.'
              : 'None shown before moderation has judged the image.'}
        </p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="visually-hidden">Thumbnails</caption>
            <thead>
              <tr>
                <th scope="col">Size</th>
                <th scope="col">Format</th>
                <th scope="col">Pixels</th>
                <th scope="col">Bytes</th>
                <th scope="col">File</th>
              </tr>
            </thead>
            <tbody>
              {[...thumbnails]
                .sort((a, b) => a.size - b.size || a.format.localeCompare(b.format))
                .map((thumbnail) => (
                  <tr key={`${thumbnail.size}-${thumbnail.format}`}>
                    <td>{thumbnail.size}</td>
                    <td>{thumbnail.format}</td>
                    <td>
                      {thumbnail.width}×{thumbnail.height}
                    </td>
                    <td>{formatBytes(thumbnail.bytes)}</td>
                    <td>
                      <a href={thumbnail.url} target="_blank" rel="noreferrer">
                        open {thumbnail.size} {thumbnail.format}
                      </a>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Prediction</h3>
      {image.prediction ? (
        <>
          <p class="muted">
            Model {modelName}
            {modelVersion ? `, version ${modelVersion}` : ''}
          </p>
          <ul class="labels">
            {image.prediction.labels.map(({ label, score }) => (
              <li key={label}>
                <span class="label-name">{label}</span>
                <meter class="bar" min={0} max={1} value={score} aria-label={`${label} score`}>
                  {percent(score)}
                </meter>
                <span class="score">{percent(score)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>No prediction yet.</p>
      )}

      <h3>Moderation</h3>
      {image.moderation ? (
        <p>
          Verdict <strong>{image.moderation.verdict}</strong>
          {image.moderation.flaggedBy.length > 0 ? `: flagged by ${image.moderation.flaggedBy.join(', ')}` : ''}
        </p>
      ) : (
        <p>Not judged yet.</p>
      )}

      <h3>Catalogue record</h3>
      <div class="scroll">
        <table>
          <caption class="visually-hidden">Stages</caption>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(image.stages).map(([stage, state]) => (
              <tr key={stage}>
                <th scope="row">{stage}</th>
                <td>
                  <StatusBadge status={state.status} />
                  {state.eTag !== image.source.eTag ? ' (older version)' : ''}
                </td>
                <td>{state.reason ? `${state.reason}${state.message ? `: ${state.message}` : ''}` : '—'}</td>
                <td>{formatTime(state.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted">
        Record created {formatTime(image.createdAt)}, updated {formatTime(image.updatedAt)}; ETag <code>{image.source.eTag}</code>
      </p>
    </>
  );
}
