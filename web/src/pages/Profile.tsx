import { useEffect, useState, type FormEvent } from 'react';
import { useTitle } from '../state/useTitle';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { FollowPage, Playlist, PlaylistPage, PublicProfile, Room, UserRef } from '../api/types';
import { UserAvatar } from '../components/Art';
import { Icon } from '../components/Icon';
import { FollowButton, formatCount, ShareButton, UserList } from '../components/Social';
import { Empty, TrackCard } from '../components/TrackList';
import { useAuth } from '../state/auth';
import { useSocial } from '../state/social';
import { reportProfileView } from '../state/playReport';
import { useTrackPages } from './Home';

const TABS = [
  ['tracks', 'Tracks'],
  ['playlists', 'Playlists'],
  ['likes', 'Likes'],
  ['followers', 'Followers'],
  ['following', 'Following'],
] as const;
type Tab = (typeof TABS)[number][0];

export function Profile() {
  const { username = '' } = useParams();
  const { user, ready: authReady } = useAuth();
  const { noteFollowing } = useSocial();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS.find(([t]) => t === params.get('tab'))?.[0] ?? 'tracks') as Tab;
  useTitle(username);
  const [profile, setProfile] = useState<PublicProfile | null>(null);
  const [error, setError] = useState('');
  const [dmError, setDmError] = useState('');
  const u = encodeURIComponent(username);
  useEffect(() => {
    setProfile(null);
    setError('');
    api<PublicProfile>(`/api/v1/users/${u}`)
      .then((p) => {
        setProfile(p);
        if (p.followed_by_me !== undefined) noteFollowing(username, p.followed_by_me);
      })
      .catch((e) => setError(errorMessage(e)));
  }, [u, username, noteFollowing]);
  // One view per showing of someone else's profile (the server ignores one's own anyway).
  const shown = profile?.username.toLowerCase() === username.toLowerCase();
  const own = user?.username.toLowerCase() === username.toLowerCase();
  useEffect(() => {
    if (authReady && shown && !own) reportProfileView(username);
  }, [username, authReady, shown, own]);
  if (error) return <div className="page"><Empty icon="user" title="No such profile" level={1}><p className="muted">{error}</p></Empty></div>;
  const mine = user?.username === username;
  const counters: [string, number | undefined, Tab | null][] = [
    ['Followers', profile?.followers, 'followers'],
    ['Following', profile?.following, 'following'],
    ['Tracks', profile?.tracks, 'tracks'],
    ['Plays', profile?.plays, null],
    ['Likes', profile?.likes, 'likes'],
  ];

  const message = async () => {
    if (!profile) return;
    try {
      const room = await api<Room>('/api/v1/chat/dm', { method: 'POST', body: { user_id: profile.id } });
      navigate(`/chat/${room.id}`);
    } catch (e) {
      setDmError(errorMessage(e));
    }
  };

  return (
    <div className="page">
      <section className="profile-head">
        <UserAvatar name={username} url={profile?.avatar?.['512']} size={120} />
        <div className="profile-main">
          <p className="eyebrow">Artist</p>
          <h1>{profile?.display_name || username}</h1>
          <p className="muted">@{username}</p>
          {profile?.bio && <p className="bio">{profile.bio}</p>}
          {!!profile?.links.length && (
            <ul className="links">
              {profile.links.map((l) => (
                <li key={l}>
                  <a href={l} rel="noopener noreferrer nofollow" target="_blank">
                    {l.replace(/^https?:\/\//, '')}
                  </a>
                </li>
              ))}
            </ul>
          )}
          <dl className="counters" data-testid="profile-counters">
            {counters.map(([label, n, t]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd data-testid={`count-${label.toLowerCase()}`}>
                  {t ? (
                    <button className="link-btn plain" onClick={() => setParams({ tab: t })}>
                      {n === undefined ? '–' : formatCount(n)}
                    </button>
                  ) : n === undefined ? (
                    '–'
                  ) : (
                    formatCount(n)
                  )}
                </dd>
              </div>
            ))}
          </dl>
          <div className="profile-actions">
            {profile && (
              <FollowButton
                username={username}
                onChange={(d) => setProfile((p) => (p ? { ...p, followers: Math.max(0, (p.followers ?? 0) + d) } : p))}
              />
            )}
            {profile && user && !mine && (
              <button className="btn ghost small" onClick={message} data-testid="message-user">
                <Icon name="chat" size={16} /> Message
              </button>
            )}
            {mine && (
              <Link to="/settings" className="btn ghost small">
                <Icon name="edit" size={16} /> Edit profile
              </Link>
            )}
            <ShareButton path={`/u/${username}`} title={profile?.display_name || username} />
          </div>
          {dmError && <p className="error-text small" role="alert">{dmError}</p>}
        </div>
      </section>
      <div className="tabs" role="tablist" aria-label="Profile sections">
        {TABS.map(([t, label]) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'tab active' : 'tab'} onClick={() => setParams({ tab: t }, { replace: true })}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={TABS.find(([t]) => t === tab)?.[1]}>
        {tab === 'tracks' && <TrackGrid path={`/api/v1/users/${u}/tracks`} empty="No public tracks yet" />}
        {tab === 'likes' && <TrackGrid path={`/api/v1/users/${u}/likes`} empty="No liked tracks yet" />}
        {tab === 'playlists' && <Playlists username={username} mine={mine} />}
        {(tab === 'followers' || tab === 'following') && <People path={`/api/v1/users/${u}/${tab}`} empty={tab === 'followers' ? 'No followers yet.' : 'Not following anyone yet.'} />}
      </div>
    </div>
  );
}

function TrackGrid({ path, empty }: { path: string; empty: string }) {
  const tracks = useTrackPages(path);
  if (!tracks.loading && !tracks.tracks.length) return <Empty icon="music" title={empty} />;
  return (
    <>
      <div className="grid">
        {tracks.tracks.map((t) => (
          <TrackCard key={t.id} track={t} context={tracks.tracks} />
        ))}
      </div>
      {tracks.more && (
        <button className="btn ghost load-more" onClick={tracks.more}>
          Load more
        </button>
      )}
    </>
  );
}

function People({ path, empty }: { path: string; empty: string }) {
  const [users, setUsers] = useState<UserRef[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = async (from: string | null) => {
    const p = await api<FollowPage>(`${path}?limit=50${from ? `&cursor=${encodeURIComponent(from)}` : ''}`);
    setUsers((u) => (from ? [...(u ?? []), ...p.users] : p.users));
    setCursor(p.next_cursor);
  };
  useEffect(() => {
    setUsers(null);
    void load(null).catch(() => setUsers([]));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
  if (!users) return <p className="muted">Loading…</p>;
  return (
    <>
      <UserList users={users} empty={empty} />
      {cursor && (
        <button className="btn ghost load-more" onClick={() => load(cursor)}>
          Load more
        </button>
      )}
    </>
  );
}

export function PlaylistCard({ p }: { p: Playlist }) {
  return (
    <Link to={`/playlists/${p.id}`} className="card playlist-card" data-testid="playlist-card">
      <div className="playlist-art" aria-hidden="true">
        <Icon name="list" size={34} />
      </div>
      <span className="card-title">{p.title}</span>
      <span className="card-sub muted small">
        {p.track_count} {p.track_count === 1 ? 'track' : 'tracks'}
        {p.visibility === 'private' && (
          <span className="badge">
            <Icon name="lock" size={12} /> Private
          </span>
        )}
        {p.collaborative && <span className="badge">Collaborative</span>}
      </span>
    </Link>
  );
}

function Playlists({ username, mine }: { username: string; mine: boolean }) {
  const [lists, setLists] = useState<Playlist[] | null>(null);
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    api<PlaylistPage>(`/api/v1/users/${encodeURIComponent(username)}/playlists?limit=100`)
      .then((p) => setLists(p.playlists))
      .catch(() => setLists([]));
  }, [username]);
  return (
    <>
      {mine && (
        <div className="section-head">
          <span />
          <button className="btn small" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
            <Icon name="plus" size={16} /> New playlist
          </button>
        </div>
      )}
      {creating && <NewPlaylist />}
      {lists && !lists.length ? (
        <Empty icon="list" title="No playlists yet" />
      ) : (
        <div className="grid">{lists?.map((p) => <PlaylistCard key={p.id} p={p} />)}</div>
      )}
    </>
  );
}

function NewPlaylist() {
  const navigate = useNavigate();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [collaborative, setCollaborative] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const p = await api<Playlist>('/api/v1/playlists', { method: 'POST', body: { title: title.trim(), description, visibility, collaborative } });
      navigate(`/playlists/${p.id}`);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <form className="panel form" onSubmit={submit} aria-label="New playlist">
      <label>
        Title
        <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
      </label>
      <label>
        Description
        <textarea value={description} onChange={(e) => setDescription(e.target.value)} maxLength={5000} rows={2} />
      </label>
      <label>
        Who can see it
        <select value={visibility} onChange={(e) => setVisibility(e.target.value as 'public' | 'private')}>
          <option value="public">Everyone</option>
          <option value="private">Only me and invited editors</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={collaborative} onChange={(e) => setCollaborative(e.target.checked)} /> Collaborative (invited editors can add and reorder)
      </label>
      {error && <p className="error-text" role="alert">{error}</p>}
      <div className="form-actions">
        <button className="btn" disabled={!title.trim()}>
          Create playlist
        </button>
      </div>
    </form>
  );
}
