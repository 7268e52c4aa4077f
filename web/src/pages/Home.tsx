import { useEffect, useState } from 'react';
import { useTitle } from '../state/useTitle';
import { Link } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Track, TrackPage } from '../api/types';
import { Empty, TrackCard } from '../components/TrackList';
import { useAuth } from '../state/auth';

export function useTrackPages(path: string | null) {
  const [tracks, setTracks] = useState<Track[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const load = async (from: string | null, replace: boolean) => {
    if (!path) return;
    setLoading(true);
    try {
      const sep = path.includes('?') ? '&' : '?';
      const page = await api<TrackPage>(`${path}${sep}limit=24${from ? `&cursor=${encodeURIComponent(from)}` : ''}`);
      setTracks((t) => (replace ? page.tracks : [...t, ...page.tracks]));
      setCursor(page.next_cursor);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load(null, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
  return { tracks, setTracks, loading, error, more: cursor ? () => load(cursor, false) : null, reload: () => load(null, true) };
}

export function Home() {
  const { user } = useAuth();
  useTitle('Discover');
  const feed = useTrackPages('/api/v1/tracks');
  return (
    <div className="page">
      <section className="hero">
        <div>
          <p className="eyebrow">Discover</p>
          <h1>{user ? `Welcome back, ${user.display_name || user.username}` : 'Music, made and talked about together'}</h1>
          <p className="lead">
            Fresh uploads from the community, streamed in full quality. Upload your own, then talk it through in chat.
          </p>
          <div className="hero-actions">
            {user ? (
              <>
                <Link to="/upload" className="btn">
                  Upload a track
                </Link>
                <Link to="/chat" className="btn ghost">
                  Open chat
                </Link>
              </>
            ) : (
              <>
                <Link to="/signup" className="btn">
                  Create your account
                </Link>
                <Link to="/login" className="btn ghost">
                  Sign in
                </Link>
              </>
            )}
          </div>
        </div>
        <div className="hero-bars" aria-hidden="true">
          {Array.from({ length: 28 }, (_, i) => (
            <span key={i} style={{ animationDelay: `${(i % 7) * 0.12}s`, height: `${30 + ((i * 37) % 60)}%` }} />
          ))}
        </div>
      </section>

      <section aria-labelledby="new-heading">
        <div className="section-head">
          <h2 id="new-heading">New tracks</h2>
        </div>
        {feed.error && <p className="error-text" role="alert">{feed.error}</p>}
        {!feed.loading && !feed.tracks.length && !feed.error ? (
          <Empty icon="music" title="Nothing here yet">
            <p className="muted">Public tracks appear here once they are processed.</p>
          </Empty>
        ) : (
          <div className="grid">
            {feed.tracks.map((t) => (
              <TrackCard key={t.id} track={t} context={feed.tracks} />
            ))}
            {feed.loading && Array.from({ length: 4 }, (_, i) => <div key={`s${i}`} className="card skeleton" />)}
          </div>
        )}
        {feed.more && (
          <button className="btn ghost load-more" onClick={feed.more}>
            Load more
          </button>
        )}
      </section>
    </div>
  );
}
