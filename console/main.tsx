import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Announce } from './common';
import { Detail } from './detail';
import { Failures } from './failures';
import { Gallery } from './gallery';
import { Uploads } from './uploads';

/**
 * The web console: uploads and the gallery (`#/`), one image (`#/image/<key>`), the failures
 * (`#/failures`). A hash route keeps every view a plain GET of `/` for the local server.
 */

type Route = { view: 'home' } | { view: 'image'; key: string } | { view: 'failures' };

function parseRoute(hash: string): Route {
  if (hash.startsWith('#/image/')) {
    try {
      return { view: 'image', key: decodeURIComponent(hash.slice('#/image/'.length)) };
    } catch {
      return { view: 'home' };
    }
  }
  if (hash === '#/failures') return { view: 'failures' };
  return { view: 'home' };
}

function App() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const [announcement, setAnnouncement] = useState('');
  const [galleryVersion, setGalleryVersion] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    const title = route.view === 'image' ? 'Image' : route.view === 'failures' ? 'Failures' : 'Uploads and gallery';
    document.title = `${title} · Image pipeline console`;
    document.getElementById('main')?.focus();
  }, [route]);
  const announce = useCallback((message: string) => setAnnouncement(message), []);
  const refreshGallery = useCallback(() => setGalleryVersion((version) => version + 1), []);
  // Deleted from the detail view, still listed until the pipeline has removed the record.
  const [removing, setRemoving] = useState<ReadonlySet<string>>(new Set());
  const onDeleted = useCallback((key: string) => {
    setRemoving((keys) => new Set(keys).add(key));
    location.hash = '#/';
  }, []);
  const onGone = useCallback(
    (key: string) =>
      setRemoving((keys) => {
        const rest = new Set(keys);
        rest.delete(key);
        return rest;
      }),
    [],
  );

  return (
    <Announce.Provider value={announce}>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header>
        <h1>Image pipeline</h1>
        <nav aria-label="Views">
          <a href="#/" aria-current={route.view === 'home' ? 'page' : undefined}>
            Uploads &amp; gallery
          </a>
          <a href="#/failures" aria-current={route.view === 'failures' ? 'page' : undefined}>
            Failures
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {route.view === 'home' && (
          <>
            <Uploads onSettled={refreshGallery} />
            <Gallery version={galleryVersion} removing={removing} onGone={onGone} />
          </>
        )}
        {route.view === 'image' && <Detail imageKey={route.key} onDeleted={onDeleted} />}
        {route.view === 'failures' && <Failures />}
      </main>
      <p class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
    </Announce.Provider>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
