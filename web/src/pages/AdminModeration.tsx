// Admin: chat moderation (docs/moderation.md): the report queue with the reported message in
// its context and one action per report, the word filter, and mutes/bans with their expiry.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, errorMessage } from '../api/client';
import { Icon } from '../components/Icon';
import { timeAgo } from '../components/Social';
import { knownName } from '../state/names';

interface ModMessage {
  id: string;
  seq?: number;
  sender?: string;
  sender_id?: string;
  sender_username?: string;
  body: string;
  created_at?: number;
}

interface Report {
  id: string;
  status: 'open' | 'resolved';
  reason: string;
  created_at: number;
  room: { id: string; name: string };
  message: ModMessage;
  message_deleted: boolean;
  context: ModMessage[];
  reporter: { id: string; username: string };
  reported_user: { id: string; username: string };
  resolution: string | null;
  resolved_by?: string | null;
  resolved_at?: number | null;
}

interface Sanction {
  id: string;
  kind: 'mute' | 'ban';
  user_id: string;
  room_id: string | null;
  global: boolean;
  reason: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  lifted_at: number | null;
  active: boolean;
}

interface Word {
  id: string;
  word: string;
  action: 'block' | 'mask';
  created_at: number;
}

// Servers without the moderation service answer 404 on its routes: the screens hide then.
let available: Promise<boolean> | null = null;
export function moderationAvailable(): Promise<boolean> {
  available ??= api('/api/v1/moderation/words')
    .then(() => true)
    .catch((e) => (e as { status?: number }).status !== 404);
  return available;
}

export const DURATIONS: [number, string][] = [
  [600, '10 minutes'],
  [3600, '1 hour'],
  [86400, '1 day'],
  [7 * 86400, '7 days'],
  [0, 'Until lifted'],
];

// What a sanction's expiry reads as.
export function expiryText(s: Pick<Sanction, 'expires_at' | 'lifted_at' | 'active'>, now = Date.now()): string {
  if (s.lifted_at) return `lifted ${timeAgo(s.lifted_at, now)}`;
  if (s.expires_at === null) return 'until lifted';
  if (s.expires_at <= now) return 'expired';
  const mins = Math.round((s.expires_at - now) / 60000);
  if (mins < 60) return `${mins} min left`;
  if (mins < 48 * 60) return `${Math.round(mins / 60)} h left`;
  return `${Math.round(mins / 1440)} days left`;
}

export function ModerationQueue({ canGlobal }: { canGlobal: boolean }) {
  const [status, setStatus] = useState<'open' | 'resolved'>('open');
  const [reports, setReports] = useState<Report[] | null>(null);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      const r = await api<{ reports: Report[] }>(`/api/v1/moderation/reports?status=${status}&limit=50`);
      setReports(r.reports);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [status]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div>
      <div className="segmented" role="group" aria-label="Report status">
        {(['open', 'resolved'] as const).map((s) => (
          <button key={s} className={status === s ? 'seg active' : 'seg'} aria-pressed={status === s} onClick={() => setStatus(s)}>
            {s === 'open' ? 'Open' : 'Resolved'}
          </button>
        ))}
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
      {reports && !reports.length && <p className="muted pad">{status === 'open' ? 'No open reports. All quiet.' : 'Nothing resolved yet.'}</p>}
      <div className="reports">
        {reports?.map((r) => (
          <ReportCard key={r.id} report={r} canGlobal={canGlobal} onResolved={load} />
        ))}
      </div>
    </div>
  );
}

function ReportCard({ report, canGlobal, onResolved }: { report: Report; canGlobal: boolean; onResolved(): void }) {
  const [action, setAction] = useState('dismiss');
  const [duration, setDuration] = useState(3600);
  const [global, setGlobal] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const sender = (m: ModMessage) => {
    const id = m.sender ?? m.sender_id;
    if (id === report.reported_user.id) return report.reported_user.username;
    if (id === report.reporter.id) return report.reporter.username;
    return m.sender_username ?? knownName(id) ?? 'someone';
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const body: Record<string, unknown> = { action, reason: reason.trim() };
      if (action === 'mute' || action === 'ban') {
        if (duration) body.duration_seconds = duration;
        if (global) body.global = true;
      }
      await api(`/api/v1/moderation/reports/${report.id}/resolve`, { method: 'POST', body });
      onResolved();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <article className="panel report" data-testid="report">
      <header className="report-head">
        <span className="badge failed">
          <Icon name="alert" size={12} /> Reported
        </span>
        <span>
          <strong>@{report.reported_user.username}</strong> in <strong>#{report.room.name}</strong>
        </span>
        <span className="muted small">
          by @{report.reporter.username} · {timeAgo(report.created_at)}
        </span>
      </header>
      <p className="report-reason">“{report.reason}”</p>
      <ol className="report-context" aria-label="The message in context">
        {(report.context.length ? report.context : [report.message]).map((m) => (
          <li key={m.id} className={m.id === report.message.id ? 'ctx reported' : 'ctx'}>
            <strong>{sender(m)}</strong> {m.body ? <span>{m.body}</span> : <em className="muted">deleted message</em>}
          </li>
        ))}
        {!report.context.some((m) => m.id === report.message.id) && (
          <li className="ctx reported">
            <strong>{report.reported_user.username}</strong> <span>{report.message.body}</span>
            {report.message_deleted && <span className="badge">deleted</span>}
          </li>
        )}
      </ol>
      {report.status === 'resolved' ? (
        <p className="muted small">
          Resolved: {report.resolution?.replace('_', ' ')}
          {report.resolved_at ? ` · ${timeAgo(report.resolved_at)}` : ''}
        </p>
      ) : (
        <form className="report-actions" onSubmit={submit}>
          <label>
            Action
            <select value={action} onChange={(e) => setAction(e.target.value)} data-testid="report-action">
              <option value="dismiss">Dismiss</option>
              <option value="delete_message">Delete message</option>
              <option value="mute">Mute</option>
              <option value="kick">Kick from room</option>
              <option value="ban">Ban</option>
            </select>
          </label>
          {(action === 'mute' || action === 'ban') && (
            <label>
              For
              <select value={duration} onChange={(e) => setDuration(Number(e.target.value))} data-testid="report-duration">
                {DURATIONS.filter(([d]) => d || action === 'ban').map(([d, l]) => (
                  <option key={d} value={d}>
                    {l}
                  </option>
                ))}
              </select>
            </label>
          )}
          {(action === 'mute' || action === 'ban') && canGlobal && (
            <label className="check">
              <input type="checkbox" checked={global} onChange={(e) => setGlobal(e.target.checked)} /> Everywhere
            </label>
          )}
          <label className="grow-label">
            Reason
            <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} placeholder="Recorded in the audit log" data-testid="report-reason" />
          </label>
          <button className="btn small" disabled={!reason.trim()} data-testid="report-resolve">
            Resolve
          </button>
          {error && <p className="error-text small" role="alert">{error}</p>}
        </form>
      )}
    </article>
  );
}

export function WordFilter() {
  const [words, setWords] = useState<Word[]>([]);
  const [word, setWord] = useState('');
  const [action, setAction] = useState<'block' | 'mask'>('mask');
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      setWords((await api<{ words: Word[] }>('/api/v1/moderation/words')).words);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const add = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('/api/v1/moderation/words', { method: 'POST', body: { word: word.trim(), action } });
      setWord('');
      setError('');
      await load();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <div className="panel wide">
      <h2>Word filter</h2>
      <p className="muted small">
        Single words, letters only; end with <code>*</code> to match every word starting so. Matching sees through case, accents, look-alike letters, leetspeak and
        separators. <strong>Mask</strong> stars the word out; <strong>block</strong> refuses the message.
      </p>
      <form className="inline-form" onSubmit={add}>
        <input value={word} onChange={(e) => setWord(e.target.value)} placeholder="word or prefix*" aria-label="Word" maxLength={256} data-testid="word-input" />
        <select value={action} onChange={(e) => setAction(e.target.value as 'block' | 'mask')} aria-label="What happens" className="auto">
          <option value="mask">Mask</option>
          <option value="block">Block</option>
        </select>
        <button className="btn small" disabled={!word.trim()}>
          Add
        </button>
      </form>
      {error && <p className="error-text small" role="alert">{error}</p>}
      <ul className="word-list">
        {words.map((w) => (
          <li key={w.id} data-testid="filter-word">
            <code>{w.word}</code>
            <select
              value={w.action}
              aria-label={`What happens to ${w.word}`}
              className="auto"
              onChange={async (e) => {
                await api(`/api/v1/moderation/words/${w.id}`, { method: 'PATCH', body: { action: e.target.value } });
                await load();
              }}
            >
              <option value="mask">Mask</option>
              <option value="block">Block</option>
            </select>
            <button
              className="icon-btn"
              aria-label={`Remove ${w.word}`}
              onClick={async () => {
                await api(`/api/v1/moderation/words/${w.id}`, { method: 'DELETE' });
                await load();
              }}
            >
              <Icon name="x" size={16} />
            </button>
          </li>
        ))}
      </ul>
      {!words.length && <p className="muted small">The list is empty.</p>}
    </div>
  );
}

export function Sanctions({ names }: { names?: Record<string, string> }) {
  const [list, setList] = useState<Sanction[]>([]);
  const [activeOnly, setActiveOnly] = useState(true);
  const [kind, setKind] = useState<'' | 'mute' | 'ban'>('');
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      const p = new URLSearchParams({ active: String(activeOnly), limit: '100' });
      if (kind) p.set('kind', kind);
      setList((await api<{ sanctions: Sanction[] }>(`/api/v1/moderation/sanctions?${p}`)).sanctions);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [activeOnly, kind]);
  useEffect(() => {
    void load();
  }, [load]);
  const lift = async (s: Sanction) => {
    const reason = prompt(`Why lift this ${s.kind}?`, 'Appeal accepted');
    if (!reason) return;
    try {
      await api(`/api/v1/moderation/sanctions/${s.id}`, { method: 'DELETE', body: { reason } });
      await load();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <div>
      <div className="filters">
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as '' | 'mute' | 'ban')}>
            <option value="">Mutes and bans</option>
            <option value="mute">Mutes</option>
            <option value="ban">Bans</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={activeOnly} onChange={(e) => setActiveOnly(e.target.checked)} /> Active only
        </label>
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
      <table className="table">
        <thead>
          <tr>
            <th>User</th>
            <th>Kind</th>
            <th>Where</th>
            <th>Reason</th>
            <th>Expiry</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr key={s.id} data-testid="sanction">
              <td>{names?.[s.user_id] ?? <code>{s.user_id.slice(-8)}</code>}</td>
              <td>
                <span className={s.kind === 'ban' ? 'badge failed' : 'badge processing'}>{s.kind}</span>
              </td>
              <td className="muted">{s.global ? 'Everywhere' : 'One room'}</td>
              <td>{s.reason}</td>
              <td className="muted">{expiryText(s)}</td>
              <td>
                {s.active && (
                  <button className="btn ghost small" onClick={() => lift(s)}>
                    Lift
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!list.length && !error && <p className="muted pad">No {activeOnly ? 'active ' : ''}mutes or bans.</p>}
    </div>
  );
}
