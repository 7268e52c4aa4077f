import { useEffect, useState } from 'react';
import { useTitle } from '../state/useTitle';
import { Link } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { FeedItem, FeedPage, Track, TrackPage } from '../api/types';
import { Icon } from '../components/Icon';
import { timeAgo } from '../components/Social';
import { Empty, TrackCard } from '../components/TrackList';
import { useAuth } from '../state/auth';
import { rememberUsers } from '../state/names';

export function useTrackPages(path: string | null, pageSize = 24) {
  const [tracks, setTracks] = useState<Track[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const load = async (from: string | null, replace: boolean) => {
    if (!path) return;
    setLoading(true);
    try {
      const sep = path.includes('?') ? '&' : '?';
      const page = await api<TrackPage>(`${path}${sep}limit=${pageSize}${from ? `&cursor=${encodeURIComponent(from)}` : ''}`);
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

// The home feed: uploads and reposts by the people the user follows, cursor pages.
function useFeed(enabled: boolean) {
  const [items, setItems] = useState<FeedItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(enabled);
  const [error, setError] = useState('');
  const load = async (from: string | null) => {
    setLoading(true);
    try {
      const page = await api<FeedPage>(`/api/v1/feed?limit=12${from ? `&cursor=${encodeURIComponent(from)}` : ''}`);
      rememberUsers(page.items.map((i) => i.actor));
      setItems((i) => (from ? [...i, ...page.items] : page.items));
      setCursor(page.next_cursor);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    if (enabled) void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled]);
  return { items, loading, error, more: cursor ? () => load(cursor) : null };
}

function FeedSection() {
  const feed = useFeed(true);
  const tracks = feed.items.map((i) => i.track);
  return (
    <section aria-labelledby="feed-heading">
      <div className="section-head">
        <h2 id="feed-heading">From people you follow</h2>
      </div>
      {feed.error && <p className="error-text" role="alert">{feed.error}</p>}
      {!feed.loading && !feed.items.length && !feed.error ? (
        <div className="callout">
          <Icon name="user" size={22} />
          <p>
            Follow artists to fill this space with their new uploads and reposts. Start with the trending tracks below, or{' '}
            <Link to="/search">search for people</Link>.
          </p>
        </div>
      ) : (
        <div className="grid" data-testid="feed">
          {feed.items.map((item) => (
            <div key={item.id} className="feed-item" data-testid="feed-item">
              <p className="feed-why muted small">
                <Icon name={item.kind === 'repost' ? 'repeat' : 'upload'} size={13} label={item.kind === 'repost' ? 'Reposted by' : 'Posted by'} />
                <Link to={`/u/${item.actor.username}`}>{item.actor.display_name || item.actor.username}</Link>
                <time dateTime={new Date(item.at).toISOString()}>{timeAgo(item.at)}</time>
              </p>
              <TrackCard track={item.track} context={tracks} />
            </div>
          ))}
          {feed.loading && Array.from({ length: 4 }, (_, i) => <div key={`s${i}`} className="card skeleton" />)}
        </div>
      )}
      {feed.more && (
        <button className="btn ghost load-more" onClick={feed.more} disabled={feed.loading} data-testid="feed-more">
          Load more
        </button>
      )}
    </section>
  );
}

function TrendingSection() {
  const trending = useTrackPages('/api/v1/discover');
  if (!trending.loading && !trending.tracks.length) return null;
  return (
    <section aria-labelledby="trending-heading">
      <div className="section-head">
        <h2 id="trending-heading">Trending this week</h2>
        <span className="muted small">Most played and liked in the last 7 days</span>
      </div>
      <div className="grid">
        {trending.tracks.slice(0, 12).map((t) => (
          <TrackCard key={t.id} track={t} context={trending.tracks} />
        ))}
        {trending.loading && Array.from({ length: 4 }, (_, i) => <div key={`s${i}`} className="card skeleton" />)}
      </div>
    </section>
  );
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

      {user && <FeedSection />}
      <TrendingSection />

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
