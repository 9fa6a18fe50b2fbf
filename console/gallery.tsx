import { useEffect, useState } from 'preact/hooks';
import type { ImageView } from '../shared/api/types';
import { api, type ListQuery } from './api';
import { ErrorNote, StatusBadge, useAnnounce } from './common';
import { filenameOf, percent, thumbnailSources } from './format';

/** The catalogue newest first, page by page through the API's cursor, filtered by status and verdict. */

const PAGE = 24;

export function Gallery({ version }: { version: number }) {
  const [status, setStatus] = useState<ListQuery['status']>();
  const [verdict, setVerdict] = useState<ListQuery['verdict']>();
  const [items, setItems] = useState<ImageView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const announce = useAnnounce();

  async function load(from: string | null) {
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.list({ status, verdict, cursor: from, limit: PAGE });
      setItems((shown) => (from ? [...shown, ...page.items] : page.items));
      setCursor(page.cursor);
      if (from) announce(`${page.items.length} more images shown`);
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
    }
  }

  // Back to the first page when a filter or the catalogue changes.
  useEffect(() => {
    void load(null);
  }, [status, verdict, version]);

  return (
    <section aria-labelledby="gallery-title">
      <h2 id="gallery-title">Gallery</h2>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Status{' '}
          <select value={status ?? ''} onChange={(event) => setStatus((event.currentTarget.value || undefined) as ListQuery['status'])}>
            <option value="">any</option>
            <option value="pending">pending</option>
            <option value="complete">complete</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          Verdict{' '}
          <select value={verdict ?? ''} onChange={(event) => setVerdict((event.currentTarget.value || undefined) as ListQuery['verdict'])}>
            <option value="">any</option>
            <option value="clean">clean</option>
            <option value="flagged">flagged</option>
          </select>
        </label>
        <button type="button" onClick={() => load(null)} disabled={loading}>
          Refresh
        </button>
      </form>
      <ErrorNote error={error} what="The gallery could not be loaded" />
      {!loading && !error && items.length === 0 && <p>No images match.</p>}
      <ul class="gallery" aria-busy={loading}>
        {items.map((image) => (
          <Card key={image.key} image={image} />
        ))}
      </ul>
      {cursor && (
        <button type="button" onClick={() => load(cursor)} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function Card({ image }: { image: ImageView }) {
  const name = filenameOf(image.key);
  const sources = thumbnailSources(image);
  const flagged = image.moderation?.verdict === 'flagged';
  const top = image.prediction?.labels[0];
  const { width, height } = image.source;
  return (
    <li class={`card${flagged ? ' flagged' : ''}`}>
      <a href={`#/image/${encodeURIComponent(image.key)}`} aria-label={`${name}: details`}>
        <div class="frame">
          {sources ? (
            <img
              src={sources.src}
              srcset={sources.srcset}
              sizes="(max-width: 600px) 45vw, 220px"
              width={sources.width}
              height={sources.height}
              alt={top ? `${name}, looks like ${top.label}` : name}
            />
          ) : (
            <span class="no-thumbnail">{image.status === 'failed' ? 'no thumbnail: failed' : 'no thumbnail yet'}</span>
          )}
          {flagged && <span class="badge flag">Flagged</span>}
        </div>
      </a>
      <p class="name" title={image.key}>
        {name}
      </p>
      <p class="muted">
        <StatusBadge status={image.status} /> {width && height ? `${width}×${height}` : ''}
      </p>
      {top && (
        <p class="muted">
          {top.label} {percent(top.score)}
        </p>
      )}
    </li>
  );
}
