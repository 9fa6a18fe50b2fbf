import { useEffect, useState } from 'preact/hooks';
import type { AuditView, DlqRowView, RedriveOutcome } from '../shared/api/types';
import { api } from './api';
import { ErrorNote, Reason, useAnnounce } from './common';
import { formatTime } from './format';

/** The DLQ rows with what each reason means, a redrive by reason (dry run, confirmation, then the real one), the audit. */

interface Group {
  queue: string;
  reason: string;
  rows: number;
}

function groups(rows: readonly DlqRowView[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const row of rows) {
    const id = `${row.queue}\u0000${row.reason}`;
    const group = byKey.get(id) ?? { queue: row.queue, reason: row.reason, rows: 0 };
    group.rows += 1;
    byKey.set(id, group);
  }
  return [...byKey.values()];
}

export function Failures() {
  const [dlq, setDlq] = useState<{ rows: DlqRowView[]; truncated: string[] }>();
  const [audit, setAudit] = useState<AuditView>();
  const [error, setError] = useState<unknown>();
  const [auditError, setAuditError] = useState<unknown>();
  const [outcome, setOutcome] = useState<RedriveOutcome>();
  const [busy, setBusy] = useState(false);
  const announce = useAnnounce();

  const loadDlq = () =>
    api.deadLetters().then(
      (found) => {
        setDlq(found);
        setError(undefined);
      },
      (caught) => setError(caught),
    );
  const loadAudit = () =>
    api.audit().then(
      (found) => {
        setAudit(found);
        setAuditError(undefined);
      },
      (caught) => setAuditError(caught),
    );
  useEffect(() => {
    void loadDlq();
    void loadAudit();
  }, []);

  async function redrive({ queue, reason }: Group) {
    setBusy(true);
    setError(undefined);
    setOutcome(undefined);
    try {
      const dry = await api.redrive({ queue, reason, dryRun: true });
      if (dry.count === 0) {
        announce(`No ${reason} message to move from the ${queue} DLQ`);
        return;
      }
      const plural = dry.count === 1 ? 'message' : 'messages';
      if (!confirm(`Move ${dry.count} ${plural} with reason ${reason} from the ${queue} DLQ back to the ${queue} queue?`)) return;
      const done = await api.redrive({ queue, reason, dryRun: false });
      setOutcome(done);
      announce(`${done.count} ${reason} message(s) moved back to the ${queue} queue`);
      await Promise.all([loadDlq(), loadAudit()]);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <section aria-labelledby="dlq-title">
        <h2 id="dlq-title">Dead-letter queues</h2>
        <p>
          <button type="button" onClick={() => loadDlq()} disabled={busy}>
            Refresh
          </button>
        </p>
        <ErrorNote error={error} what="The dead-letter queues could not be read or redriven" />
        {outcome && (
          <p class="ok" role="status">
            Moved {outcome.count} message(s) back to the {outcome.queue} queue
            {outcome.notDeleted > 0 ? `; ${outcome.notDeleted} were sent but not deleted from the DLQ (they would move again)` : ''}.
          </p>
        )}
        {dlq?.truncated.length ? <p class="muted">Only the first messages of {dlq.truncated.join(', ')} are shown.</p> : null}
        {dlq && dlq.rows.length === 0 && <p>Every dead-letter queue is empty.</p>}
        {dlq && dlq.rows.length > 0 && (
          <>
            <h3>Redrive by reason</h3>
            <ul class="redrives">
              {groups(dlq.rows).map((group) => (
                <li key={`${group.queue}-${group.reason}`}>
                  <button type="button" onClick={() => redrive(group)} disabled={busy}>
                    Redrive {group.reason} from {group.queue}
                  </button>{' '}
                  <span class="muted">
                    {group.rows} message{group.rows === 1 ? '' : 's'} shown
                  </span>
                </li>
              ))}
            </ul>
            <h3>Messages</h3>
            <div class="scroll">
              <table class="dlq">
                <caption class="visually-hidden">Dead-lettered messages</caption>
                <thead>
                  <tr>
                    <th scope="col">Queue</th>
                    <th scope="col">Class</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">First failure</th>
                    <th scope="col">Last failure</th>
                    <th scope="col">Object</th>
                  </tr>
                </thead>
                <tbody>
                  {dlq.rows.map((row) => (
                    <tr key={`${row.queue}-${row.messageId}`}>
                      <td>{row.queue}</td>
                      <td>{row.failureClass}</td>
                      <td>
                        <Reason reason={row.reason} message={row.errorMessage} />
                      </td>
                      <td>{row.attempts ?? '—'}</td>
                      <td>{formatTime(row.firstFailedAt)}</td>
                      <td>{formatTime(row.lastFailedAt)}</td>
                      <td class="key">{row.objects.map((object) => object.key).join(', ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <section aria-labelledby="audit-title">
        <h2 id="audit-title">Audit</h2>
        <ErrorNote error={auditError} what="The audit could not run" />
        {audit && (
          <>
            <dl class="summary">
              {Object.entries(audit.summary).map(([name, count]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{count}</dd>
                </div>
              ))}
            </dl>
            <p class="muted">Checked {formatTime(audit.checkedAt)}.</p>
            {audit.warnings.map((warning) => (
              <p key={warning} class="muted">
                {warning}
              </p>
            ))}
            <h3>Missing</h3>
            {audit.missing.length === 0 ? (
              <p>No upload is missing its outputs.</p>
            ) : (
              <ul>
                {audit.missing.map((missing) => (
                  <li key={missing.key}>
                    <code>{missing.key}</code>: {missing.detail}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </section>
    </>
  );
}
