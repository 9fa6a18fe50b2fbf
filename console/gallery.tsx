import { useEffect, useRef, useState } from 'preact/hooks';
import type { ImageView } from '../shared/api/types';
import { api, type ListQuery } from './api';
import { ErrorNote, FlagBadge, StatusBadge, useAnnounce } from './common';
import { filenameOf, POLL_MS, percent, thumbnailSources, unsettled } from './format';

/**
 * The catalogue newest first, page by page through the API's cursor, filtered by status and
 * verdict. A card still changing (pending, flagged with its obscured thumbnails not written yet,
 * being deleted) is asked about again until it settles or is gone.
 */

const DEFAULT_PAGE = 24;

/** The page size: `?pageSize=<n>` in the page's URL, else 24. */
function pageSize(): number {
  const asked = Number(new URLSearchParams(location.search).get('pageSize'));
  return Number.isInteger(asked) && asked >= 1 ? asked : DEFAULT_PAGE;
}

export function Gallery({
  version,
  removing,
  onGone,
}: {
  version: number;
  /** Keys deleted from this page whose removal the pipeline has not finished. */
  removing: ReadonlySet<string>;
  onGone: (key: string) => void;
}) {
  const [status, setStatus] = useState<ListQuery['status']>();
  const [verdict, setVerdict] = useState<ListQuery['verdict']>();
  const [items, setItems] = useState<ImageView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const announce = useAnnounce();

  // Listings answer out of order (a filter changed twice, an upload finishing): only the newest one is shown.
  const latest = useRef(0);

  async function load(from: string | null) {
    const request = ++latest.current;
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.list({ status, verdict, cursor: from, limit: pageSize() });
      if (request !== latest.current) return;
      setItems((shown) => {
        if (!from) return page.items;
        const keys = new Set(shown.map((image) => image.key));
        return [...shown, ...page.items.filter((image) => !keys.has(image.key))];
      });
      setCursor(page.cursor);
      if (from) announce(`${page.items.length} more images shown`);
    } catch (caught) {
      if (request === latest.current) setError(caught);
    } finally {
      if (request === latest.current) setLoading(false);
    }
  }

  // Back to the first page when a filter or the catalogue changes.
  useEffect(() => {
    void load(null);
  }, [status, verdict, version]);

  // The cards still changing, asked about again (each on its own: the pages loaded stay as they are).
  useEffect(() => {
    const watched = items.filter((image) => unsettled(image) || removing.has(image.key));
    if (watched.length === 0) return;
    let live = true;
    const timer = setTimeout(async () => {
      const fresh = new Map(
        await Promise.all(
          watched.map((image) =>
            api.image(image.key).then(
              (found) => [image.key, found] as const,
              () => [image.key, image] as const,
            ),
          ),
        ),
      );
      if (!live) return;
      for (const [key, found] of fresh) {
        if (found === null) {
          announce(`${filenameOf(key)} is gone from the catalogue`);
          onGone(key);
        }
      }
      setItems((shown) =>
        shown.flatMap((image) => {
          const found = fresh.get(image.key);
          return found === undefined ? [image] : found === null ? [] : [found];
        }),
      );
    }, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [items, removing]);

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
          <Card key={image.key} image={image} removing={removing.has(image.key)} />
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

function Card({ image, removing }: { image: ImageView; removing: boolean }) {
  const name = filenameOf(image.key);
  const sources = thumbnailSources(image);
  const flagged = image.moderation?.verdict === 'flagged';
  const top = image.prediction?.labels[0];
  const { width, height } = image.source;
  return (
    <li class={`card${flagged ? ' flagged' : ''}${removing ? ' removing' : ''}`}>
      <a href={`#/image/${encodeURIComponent(image.key)}`} aria-label={`${name}: details${flagged ? ' (flagged)' : ''}`}>
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
            <span class="no-thumbnail">
              {image.status === 'failed' ? 'no thumbnail: failed' : flagged ? 'flagged: thumbnail being obscured' : 'no thumbnail yet'}
            </span>
          )}
          {flagged && <FlagBadge flaggedBy={image.moderation?.flaggedBy ?? []} />}
        </div>
      </a>
      <p class="name" title={image.key}>
        {name}
      </p>
      <p class="muted">
        <StatusBadge status={image.status} /> {width && height ? `${width}×${height}` : ''}
      </p>
      {removing && <p class="muted">Deleting…</p>}
      {top && (
        <p class="muted">
          {top.label} {percent(top.score)}
        </p>
      )}
    </li>
  );
}
