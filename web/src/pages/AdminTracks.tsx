// Admin: track takedowns (docs/moderation.md). Find a track by search and take it down with a
// reason; the list of taken-down tracks with restore. Moderators and above.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Track } from '../api/types';
import { Art } from '../components/Art';
import { Icon } from '../components/Icon';
import { useDebounced } from '../state/search';

interface TakedownPage {
  tracks: Track[];
  next_cursor: string | null;
}

export function AdminTakedowns() {
  const [down, setDown] = useState<Track[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');

  const load = useCallback(async (from: string | null) => {
    try {
      const params = new URLSearchParams({ limit: '50' });
      if (from) params.set('cursor', from);
      const page = await api<TakedownPage>(`/api/v1/admin/tracks/takedowns?${params}`);
      setDown((d) => (from ? [...d, ...page.tracks] : page.tracks));
      setCursor(page.next_cursor);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);
  useEffect(() => {
    void load(null);
  }, [load]);

  const takenDown = (t: Track) => {
    setDown((d) => [t, ...d.filter((x) => x.id !== t.id)]);
    setStatus(`“${t.title}” is taken down; its owner was told why.`);
  };
  const restore = async (t: Track) => {
    try {
      await api(`/api/v1/admin/tracks/${t.id}/takedown`, { method: 'DELETE' });
      setDown((d) => d.filter((x) => x.id !== t.id));
      setStatus(`“${t.title}” is restored.`);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div className="takedowns">
      <TakeDownFinder onTakenDown={takenDown} />
      <section className="panel wide" aria-labelledby="takedowns-list">
        <h2 id="takedowns-list">Taken down</h2>
        <p className="muted small">Hidden from everyone but their owners; no stream, search, feed or playlist shows them until restored.</p>
        {status && (
          <p className="ok-text" role="status">
            {status}
          </p>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        {down.length ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Track</th>
                <th scope="col">Reason</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {down.map((t) => (
                <tr key={t.id} data-testid="takedown">
                  <td>
                    <span className="user-cell">
                      <Art track={t} size={36} />
                      <span>
                        <Link to={`/tracks/${t.id}`}>
                          <strong>{t.title}</strong>
                        </Link>
                        <span className="muted small">by {t.owner.username}</span>
                      </span>
                    </span>
                  </td>
                  <td className="small">{t.taken_down?.reason}</td>
                  <td className="muted small nowrap">{t.taken_down ? new Date(t.taken_down.at).toLocaleString() : ''}</td>
                  <td>
                    <button className="btn ghost small" onClick={() => void restore(t)}>
                      Restore
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          !error && <p className="muted pad">Nothing is taken down.</p>
        )}
        {cursor && (
          <button className="btn ghost load-more" onClick={() => void load(cursor)}>
            Load more
          </button>
        )}
      </section>
    </div>
  );
}

// Search public tracks and take one down with a reason.
function TakeDownFinder({ onTakenDown }: { onTakenDown(t: Track): void }) {
  const [query, setQuery] = useState('');
  const q = useDebounced(query.trim(), 200);
  const [results, setResults] = useState<Track[]>([]);
  const [chosen, setChosen] = useState<Track | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    if (!q) {
      setResults([]);
      return;
    }
    let live = true;
    api<{ results: Track[] }>(`/api/v1/search?${new URLSearchParams({ q, type: 'track', limit: '8' })}`)
      .then((r) => live && setResults(r.results))
      .catch((e) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [q]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return;
    try {
      const t = await api<Track>(`/api/v1/admin/tracks/${chosen.id}/takedown`, { method: 'POST', body: { reason: reason.trim() } });
      setResults((r) => r.filter((x) => x.id !== t.id));
      setChosen(null);
      setReason('');
      setError('');
      onTakenDown(t);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <section className="panel wide" aria-labelledby="takedown-find">
      <h2 id="takedown-find">Take a track down</h2>
      <label className="search">
        <Icon name="search" size={18} />
        <span className="sr-only">Find a track to take down</span>
        <input type="search" placeholder="Find a track by title, artist or uploader" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="takedown-search" />
      </label>
      {q && !results.length && <p className="muted small pad">No public track matches.</p>}
      <ul className="takedown-results">
        {results.map((t) => (
          <li key={t.id} className={chosen?.id === t.id ? 'selected' : ''} data-testid="takedown-candidate">
            <Art track={t} size={40} />
            <span className="grow">
              <strong>{t.title}</strong>
              <span className="muted small"> by {t.owner.username}</span>
            </span>
            <button className="btn ghost small danger" onClick={() => setChosen(t)} aria-pressed={chosen?.id === t.id}>
              Take down…
            </button>
          </li>
        ))}
      </ul>
      {chosen && (
        <form className="inline-form takedown-form" onSubmit={submit} aria-label={`Take down ${chosen.title}`}>
          <label className="grow">
            Reason shown to the owner (and written to the audit log)
            <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required data-testid="takedown-reason" />
          </label>
          <button className="btn small danger" disabled={!reason.trim()} data-testid="takedown-submit">
            Take down “{chosen.title}”
          </button>
          <button type="button" className="btn ghost small" onClick={() => setChosen(null)}>
            Cancel
          </button>
        </form>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
