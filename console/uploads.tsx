import { useEffect, useRef, useState } from 'preact/hooks';
import type { ImageView } from '../shared/api/types';
import { api, describeError, postFile } from './api';
import { Reason, StatusBadge, useAnnounce } from './common';
import { filenameOf, formatBytes } from './format';

/**
 * Upload: files dropped or picked, each asked for a presigned POST, sent with its progress shown,
 * then followed (`GET /images/{key}`) until the pipeline says complete or failed.
 */

type Phase = 'uploading' | 'refused' | 'waiting' | ImageView['status'];

interface Upload {
  id: number;
  name: string;
  size: number;
  phase: Phase;
  sent: number;
  key?: string;
  image?: ImageView;
  error?: string;
}

const POLL_MS = 1000;
/** After this long without an outcome the row says so (it keeps polling). */
const SLOW_MS = 120_000;

let nextId = 1;

export function Uploads({ onSettled }: { onSettled: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const announce = useAnnounce();
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  const update = (id: number, change: Partial<Upload>) =>
    alive.current && setUploads((all) => all.map((upload) => (upload.id === id ? { ...upload, ...change } : upload)));

  async function follow(id: number, name: string, key: string) {
    const started = Date.now();
    for (let last: Phase | undefined; alive.current; ) {
      try {
        const image = await api.image(key);
        const phase: Phase = image ? image.status : 'waiting';
        const slow = Date.now() - started > SLOW_MS ? 'no outcome yet after two minutes; still watching' : undefined;
        update(id, { phase, image: image ?? undefined, error: slow });
        if (phase !== last) announce(`${name}: ${phase === 'waiting' ? 'waiting for the pipeline' : phase}`);
        last = phase;
        if (phase === 'complete' || phase === 'failed') {
          onSettled();
          return;
        }
      } catch (error) {
        update(id, { error: `Cannot read its status: ${describeError(error)} (retrying)` });
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function start(file: File) {
    const id = nextId++;
    setUploads((all) => [{ id, name: file.name, size: file.size, phase: 'uploading', sent: 0 }, ...all]);
    announce(`${file.name}: uploading`);
    try {
      const ticket = await api.presign({ filename: file.name, contentType: file.type || 'application/octet-stream', size: file.size });
      update(id, { key: ticket.key });
      await postFile(ticket, file, (sent) => update(id, { sent }));
      update(id, { phase: 'waiting', sent: file.size });
      await follow(id, file.name, ticket.key);
    } catch (error) {
      update(id, { phase: 'refused', error: describeError(error) });
      announce(`${file.name}: refused. ${describeError(error)}`);
    }
  }

  const startAll = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) void start(file);
  };

  return (
    <section aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <label
        class={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          startAll(event.dataTransfer?.files ?? null);
        }}
      >
        <span>Drop images here, or choose files (JPEG, PNG, WebP, GIF, TIFF, AVIF)</span>
        <input
          ref={input}
          type="file"
          multiple
          accept="image/*"
          onChange={(event) => {
            startAll(event.currentTarget.files);
            event.currentTarget.value = '';
          }}
        />
      </label>
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads in this session">
          {uploads.map((upload) => (
            <UploadRow key={upload.id} upload={upload} />
          ))}
        </ul>
      )}
    </section>
  );
}

function UploadRow({ upload }: { upload: Upload }) {
  const { name, size, sent, phase, image, error, key } = upload;
  const label = phase === 'waiting' ? 'waiting for the pipeline' : phase;
  return (
    <li class="upload" data-phase={phase}>
      <div class="upload-head">
        <strong>{name}</strong> <StatusBadge status={phase} /> <span class="muted">{label === phase ? '' : label}</span>
      </div>
      {phase === 'uploading' && (
        <progress max={size} value={sent} aria-label={`${name}: bytes sent`}>
          {formatBytes(sent)} of {formatBytes(size)}
        </progress>
      )}
      <p class="muted">
        {formatBytes(sent)} of {formatBytes(size)} sent
        {key && phase !== 'refused' && (
          <>
            {' · '}
            <a href={`#/image/${encodeURIComponent(key)}`}>details of {filenameOf(key)}</a>
          </>
        )}
      </p>
      {image?.failure && <Reason reason={image.failure.reason} message={image.failure.message} />}
      {error && (
        <p class={phase === 'refused' ? 'error' : 'muted'} role={phase === 'refused' ? 'alert' : undefined}>
          {error}
        </p>
      )}
    </li>
  );
}
