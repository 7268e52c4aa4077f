import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { SearchAll, Track, UserRef } from '../api/types';
import { Icon } from '../components/Icon';
import { UserList } from '../components/Social';
import { Empty, TrackCard, TrackRows } from '../components/TrackList';
import { DURATIONS, searchUrl, useDebounced, type DurationFilter, type SearchType } from '../state/search';
import { useTitle } from '../state/useTitle';

type Room = { id: string; name: string; topic: string };
type PlaylistHit = { id: string; name: string; owner: string };
interface OnePage {
  type: string;
  results: unknown[];
  next_cursor: string | null;
}

const TYPES: [SearchType, string][] = [
  ['all', 'Top results'],
  ['track', 'Tracks'],
  ['user', 'People'],
  ['room', 'Rooms'],
  ['playlist', 'Playlists'],
];

export function Search() {
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get('q') ?? '');
  const type = (TYPES.find(([t]) => t === params.get('type'))?.[0] ?? 'all') as SearchType;
  const [genre, setGenre] = useState('');
  const [duration, setDuration] = useState<DurationFilter>('');
  const q = useDebounced(text, 200);
  const dGenre = useDebounced(genre, 300);
  const [all, setAll] = useState<SearchAll | null>(null);
  const [page, setPage] = useState<OnePage | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useTitle(q ? `Search: ${q}` : 'Search');

  useEffect(() => input.current?.focus(), []);

  // Keep the query in the URL (shareable, back button), without a history entry per key.
  useEffect(() => {
    const next = new URLSearchParams(params);
    if (q.trim()) next.set('q', q.trim());
    else next.delete('q');
    if (next.toString() !== params.toString()) setParams(next, { replace: true });
  }, [q, params, setParams]);

  useEffect(() => {
    if (!q.trim()) {
      setAll(null);
      setPage(null);
      return;
    }
    const ctl = new AbortController();
    setLoading(true);
    api<SearchAll | OnePage>(searchUrl(q, type, dGenre, duration), { signal: ctl.signal })
      .then((r) => {
        if (type === 'all') setAll(r as SearchAll);
        else setPage(r as OnePage);
        setError('');
      })
      .catch((e) => !ctl.signal.aborted && setError(errorMessage(e)))
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [q, type, dGenre, duration]);

  const more = async () => {
    if (!page?.next_cursor) return;
    const r = await api<OnePage>(searchUrl(q, type, dGenre, duration, page.next_cursor));
    setPage({ ...r, results: [...page.results, ...r.results] });
  };

  const setType = (t: SearchType) => {
    const next = new URLSearchParams(params);
    next.set('type', t);
    setPage(null);
    setParams(next, { replace: true });
  };

  const nothing = type === 'all' ? all && !all.tracks.length && !all.users.length && !all.rooms.length && !all.playlists.length : page && !page.results.length;

  return (
    <div className="page">
      <h1 className="sr-only">Search</h1>
      <div className="search big" role="search">
        <Icon name="search" />
        <input
          ref={input}
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Search tracks, people, rooms and playlists"
          aria-label="Search"
          data-testid="search-input"
        />
        {loading && <span className="spinner" aria-label="Searching" />}
      </div>
      <div className="tabs" role="tablist" aria-label="Result types">
        {TYPES.map(([t, label]) => (
          <button key={t} role="tab" aria-selected={type === t} className={type === t ? 'tab active' : 'tab'} onClick={() => setType(t)}>
            {label}
          </button>
        ))}
      </div>
      {type === 'track' && (
        <div className="filters" aria-label="Filters">
          <label>
            Genre
            <input value={genre} onChange={(e) => setGenre(e.target.value)} placeholder="Any genre" data-testid="filter-genre" />
          </label>
          <label>
            Length
            <select value={duration} onChange={(e) => setDuration(e.target.value as DurationFilter)} data-testid="filter-duration">
              <option value="">Any length</option>
              {Object.entries(DURATIONS).map(([k, d]) => (
                <option key={k} value={k}>
                  {d.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {error && <p className="error-text" role="alert">{error}</p>}
      {!q.trim() ? (
        <Empty icon="search" title="Find something to listen to">
          <p className="muted">Results appear as you type. Misspellings are fine.</p>
        </Empty>
      ) : nothing ? (
        <Empty icon="search" title={`No results for “${q.trim()}”`}>
          <p className="muted">Try fewer words or another spelling.</p>
        </Empty>
      ) : type === 'all' && all ? (
        <div className="search-results" data-testid="search-results">
          {!!all.tracks.length && (
            <section aria-labelledby="sr-tracks">
              <div className="section-head">
                <h2 id="sr-tracks">Tracks</h2>
                <button className="link-btn" onClick={() => setType('track')}>
                  All tracks
                </button>
              </div>
              <div className="grid">
                {all.tracks.map((t) => (
                  <TrackCard key={t.id} track={t} context={all.tracks} />
                ))}
              </div>
            </section>
          )}
          {!!all.users.length && (
            <section aria-labelledby="sr-users">
              <h2 id="sr-users">People</h2>
              <UserList users={all.users} empty="" />
            </section>
          )}
          {!!all.rooms.length && (
            <section aria-labelledby="sr-rooms">
              <h2 id="sr-rooms">Rooms</h2>
              <RoomHits rooms={all.rooms} />
            </section>
          )}
          {!!all.playlists.length && (
            <section aria-labelledby="sr-playlists">
              <h2 id="sr-playlists">Playlists</h2>
              <PlaylistHits lists={all.playlists} />
            </section>
          )}
        </div>
      ) : page ? (
        <div className="search-results" data-testid="search-results">
          {type === 'track' && <TrackRows tracks={page.results as Track[]} />}
          {type === 'user' && <UserList users={page.results as UserRef[]} empty="" />}
          {type === 'room' && <RoomHits rooms={page.results as Room[]} />}
          {type === 'playlist' && <PlaylistHits lists={page.results as PlaylistHit[]} />}
          {page.next_cursor && (
            <button className="btn ghost load-more" onClick={more}>
              Load more
            </button>
          )}
        </div>
      ) : null}
    </div>
  );
}

function RoomHits({ rooms }: { rooms: Room[] }) {
  return (
    <ul className="user-list">
      {rooms.map((r) => (
        <li key={r.id} className="user-item">
          <span className="hit-icon" aria-hidden="true">
            <Icon name="hash" />
          </span>
          <Link to={`/chat/${r.id}`} className="user-item-name">
            <strong>{r.name}</strong>
            <span className="muted small">{r.topic || 'Public room'}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function PlaylistHits({ lists }: { lists: PlaylistHit[] }) {
  return (
    <ul className="user-list">
      {lists.map((p) => (
        <li key={p.id} className="user-item">
          <span className="hit-icon" aria-hidden="true">
            <Icon name="list" />
          </span>
          <Link to={`/playlists/${p.id}`} className="user-item-name">
            <strong>{p.name}</strong>
            <span className="muted small">Playlist</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
