import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ImageView } from '../shared/api/types';
import { describeError } from './api';
import { reasonInfo } from './format';

/** Pieces every view uses: the live announcer, an error note, a status badge, a reason explained. */

/** Says a status change out loud (the page's one polite live region). */
export const Announce = createContext<(message: string) => void>(() => undefined);
export const useAnnounce = () => useContext(Announce);

export function ErrorNote({ error, what }: { error: unknown; what: string }) {
  if (error === undefined || error === null) return null;
  return (
    <p class="error" role="alert">
      <strong>{what}:</strong> {describeError(error)}
    </p>
  );
}

export function StatusBadge({ status }: { status: ImageView['status'] | 'waiting' | 'uploading' | 'refused' }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

export function Reason({ reason, message }: { reason: string; message?: string }) {
  const info = reasonInfo(reason);
  return (
    <div class="reason">
      <p>
        <code>{reason}</code>
        {message ? `: ${message}` : ''}
      </p>
      {info ? (
        <p class="muted">
          {info.meaning}. <em>What to do:</em> {info.action}.
        </p>
      ) : (
        <p class="muted">No description of this reason code.</p>
      )}
    </div>
  );
}

/** The mark on a flagged image: visible, and named (with what flagged it) for a screen reader. */
export function FlagBadge({ flaggedBy }: { flaggedBy: readonly string[] }) {
  return (
    <span class="badge flag" role="img" aria-label={`Flagged${flaggedBy.length > 0 ? ` by ${flaggedBy.join(', ')}` : ''}`}>
      Flagged
    </span>
  );
}
