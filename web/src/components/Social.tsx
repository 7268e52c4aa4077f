// Follow, like, repost, share and add-to-playlist buttons, used on track, profile and feed
// screens. State comes from useSocial (optimistic); counters are adjusted at once and then
// replaced by the server's numbers.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Playlist, PlaylistPage, TrackCounts, UserRef } from '../api/types';
import { useAuth } from '../state/auth';
import { rememberUsers } from '../state/names';
import { useSocial } from '../state/social';
import { UserAvatar } from './Art';
import { Icon } from './Icon';

export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0).replace(/\.0$/, '')}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

export function timeAgo(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.floor(s / 86400)} d ago`;
  return new Date(ms).toLocaleDateString();
}

// Signed-out visitors are sent to sign in and come back here.
function useRequireSignIn() {
  const { user } = useAuth();
  const navigate = useNavigate();
  return () => {
    if (user) return true;
    navigate('/login', { state: { from: location.pathname + location.search } });
    return false;
  };
}

export function FollowButton({ username, onChange }: { username: string; onChange?(delta: number): void }) {
  const { user } = useAuth();
  const social = useSocial();
  const signedIn = useRequireSignIn();
  const [error, setError] = useState('');
  if (user?.username === username) return null;
  const on = social.following.has(username);
  return (
    <>
      <button
        className={on ? 'btn ghost small following' : 'btn small'}
        aria-pressed={on}
        data-testid="follow"
        onClick={async () => {
          if (!signedIn()) return;
          onChange?.(on ? -1 : 1);
          try {
            await social.follow(username, !on);
            setError('');
          } catch (e) {
            onChange?.(on ? 1 : -1);
            setError(errorMessage(e));
          }
        }}
      >
        {on ? 'Following' : 'Follow'}
      </button>
      {error && <span className="error-text small" role="alert">{error}</span>}
    </>
  );
}

export function LikeRepost({ trackId, counts, setCounts, canRepost = true }: { trackId: string; counts: TrackCounts | null; setCounts(c: TrackCounts): void; canRepost?: boolean }) {
  const social = useSocial();
  const signedIn = useRequireSignIn();
  // The server says whether the caller likes or reposted the track (counts.liked/reposted);
  // the shared sets only cover what this tab did before the counts arrived.
  const liked = counts?.liked ?? social.liked.has(trackId);
  const reposted = counts?.reposted ?? social.reposted.has(trackId);
  const act = async (what: 'like' | 'repost', on: boolean) => {
    if (!signedIn() || !counts) return;
    const key = what === 'like' ? 'likes' : 'reposts';
    const flag = what === 'like' ? 'liked' : 'reposted';
    setCounts({ ...counts, [key]: Math.max(0, counts[key] + (on ? 1 : -1)), [flag]: on });
    try {
      const c = await (what === 'like' ? social.like(trackId, on) : social.repost(trackId, on));
      if (c) setCounts(c);
    } catch {
      setCounts(counts);
    }
  };
  return (
    <>
      <button className={liked ? 'pill on' : 'pill'} aria-pressed={liked} disabled={!counts} onClick={() => act('like', !liked)} data-testid="like" aria-label={liked ? 'Unlike' : 'Like'}>
        <Icon name="heart" size={16} solid={liked} /> <span>{counts ? formatCount(counts.likes) : '–'}</span>
      </button>
      {canRepost && (
        <button className={reposted ? 'pill on' : 'pill'} aria-pressed={reposted} disabled={!counts} onClick={() => act('repost', !reposted)} data-testid="repost" aria-label={reposted ? 'Undo repost' : 'Repost'}>
          <Icon name="repeat" size={16} /> <span>{counts ? formatCount(counts.reposts) : '–'}</span>
        </button>
      )}
    </>
  );
}

export function ShareButton({ path, title }: { path: string; title: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      className="btn ghost small"
      data-testid="share"
      onClick={async () => {
        const url = `${location.origin}${path}`;
        try {
          if (navigator.clipboard) await navigator.clipboard.writeText(url);
          else if (navigator.share) await navigator.share({ title, url });
          setCopied(true);
          window.setTimeout(() => setCopied(false), 2500);
        } catch {
          /* dismissed or no clipboard permission */
        }
      }}
    >
      <Icon name="link" size={16} /> {copied ? 'Link copied' : 'Copy link'}
    </button>
  );
}

// "Add to playlist": the caller's own playlists, plus a new one made on the spot.
export function AddToPlaylist({ trackId }: { trackId: string }) {
  const { user } = useAuth();
  const [open, setOpen] = useState(false);
  const [lists, setLists] = useState<Playlist[] | null>(null);
  const [status, setStatus] = useState<Record<string, string>>({});
  const [title, setTitle] = useState('');
  const [error, setError] = useState('');
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open || !user) return;
    api<PlaylistPage>(`/api/v1/users/${encodeURIComponent(user.username)}/playlists?limit=100`)
      .then((p) => setLists(p.playlists.filter((l) => l.may_edit)))
      .catch((e) => setError(errorMessage(e)));
    const away = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false);
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('mousedown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open, user]);

  if (!user) return null;
  const add = async (p: Playlist) => {
    setStatus((s) => ({ ...s, [p.id]: 'Adding…' }));
    try {
      await api(`/api/v1/playlists/${p.id}/items`, { method: 'POST', body: { track_id: trackId } });
      setStatus((s) => ({ ...s, [p.id]: 'Added' }));
    } catch (e) {
      setStatus((s) => ({ ...s, [p.id]: (e as { status?: number }).status === 409 ? 'Already in it' : errorMessage(e) }));
    }
  };
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const p = await api<Playlist>('/api/v1/playlists', { method: 'POST', body: { title: title.trim(), visibility: 'public' } });
      setLists((l) => [p, ...(l ?? [])]);
      setTitle('');
      await add(p);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <div className="popover-wrap" ref={box}>
      <button className="btn ghost small" aria-expanded={open} aria-haspopup="dialog" onClick={() => setOpen((o) => !o)} data-testid="add-to-playlist">
        <Icon name="list" size={16} /> Add to playlist
      </button>
      {open && (
        <div className="popover" role="dialog" aria-label="Add to playlist">
          <form onSubmit={create} className="popover-new">
            <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="New playlist" aria-label="New playlist name" maxLength={200} />
            <button className="btn small" disabled={!title.trim()}>
              Create
            </button>
          </form>
          {error && <p className="error-text small">{error}</p>}
          {lists === null ? (
            <p className="muted small pad">Loading…</p>
          ) : !lists.length ? (
            <p className="muted small pad">No playlists yet.</p>
          ) : (
            <ul className="popover-list">
              {lists.map((p) => (
                <li key={p.id}>
                  <button onClick={() => add(p)} disabled={status[p.id] === 'Adding…'}>
                    <Icon name={p.visibility === 'private' ? 'lock' : 'list'} size={16} />
                    <span className="grow">{p.title}</span>
                    <span className="muted small">{status[p.id] ?? `${p.track_count} tracks`}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

export function UserList({ users, empty }: { users: UserRef[]; empty: string }) {
  rememberUsers(users);
  if (!users.length) return <p className="muted">{empty}</p>;
  return (
    <ul className="user-list">
      {users.map((u) => (
        <li key={u.id} className="user-item" data-testid="user-item">
          <UserAvatar name={u.username} size={44} />
          <Link to={`/u/${u.username}`} className="user-item-name">
            <strong>{u.display_name || u.username}</strong>
            <span className="muted small">@{u.username}</span>
          </Link>
          <FollowButton username={u.username} />
        </li>
      ))}
    </ul>
  );
}
