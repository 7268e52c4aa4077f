import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { FollowPage, Notification, NotificationPage, Track } from '../api/types';
import { UserAvatar } from '../components/Art';
import { Icon, type IconName } from '../components/Icon';
import { timeAgo } from '../components/Social';
import { Empty } from '../components/TrackList';
import { useAuth } from '../state/auth';
import { useLive } from '../state/live';
import { knownNames, rememberUsers } from '../state/names';
import { describe, linkFor, mergeNotifications, type Known } from '../state/notifications';
import { useTitle } from '../state/useTitle';

export function Notifications() {
  const { user } = useAuth();
  const live = useLive();
  useTitle('Notifications');
  const [list, setList] = useState<Notification[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState('');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [known, setKnown] = useState<Known>(() => ({ users: knownNames(), tracks: {}, rooms: {} }));

  const load = async (from: string | null) => {
    try {
      const p = await api<NotificationPage>(`/api/v1/notifications?limit=30${unreadOnly ? '&unread_only=true' : ''}${from ? `&cursor=${from}` : ''}`);
      // A first page replaces the list but keeps live ones that came while it was on its way.
      setList((l) => mergeNotifications(from ? l : live.recent.filter((n) => !unreadOnly || !n.read_at), p.notifications));
      setCursor(p.next_cursor);
      live.setUnread(p.unread_count);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoaded(true);
    }
  };
  useEffect(() => {
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [unreadOnly]);

  // Live ones join the list as they come.
  useEffect(() => {
    if (live.recent.length) setList((l) => mergeNotifications(l, live.recent));
  }, [live.recent]);

  // Names: followers cover "follow" and most social kinds; track titles are fetched once each.
  useEffect(() => {
    if (!user) return;
    api<FollowPage>(`/api/v1/users/${encodeURIComponent(user.username)}/followers?limit=100`)
      .then((p) => {
        rememberUsers(p.users);
        setKnown((k) => ({ ...k, users: { ...k.users, ...knownNames() } }));
      })
      .catch(() => undefined);
    api<{ rooms: { id: string; name: string }[] }>('/api/v1/chat/rooms')
      .then((r) => setKnown((k) => ({ ...k, rooms: Object.fromEntries(r.rooms.map((x) => [x.id, x.name])) })))
      .catch(() => undefined);
  }, [user]);
  useEffect(() => {
    const missing = [...new Set(list.filter((n) => n.object_type === 'track' && !(n.object_id in known.tracks)).map((n) => n.object_id))].slice(0, 20);
    if (!missing.length) return;
    setKnown((k) => ({ ...k, tracks: { ...k.tracks, ...Object.fromEntries(missing.map((id) => [id, ''])) } }));
    for (const id of missing) {
      api<Track>(`/api/v1/tracks/${id}`)
        .then((t) => setKnown((k) => ({ ...k, tracks: { ...k.tracks, [id]: t.title } })))
        .catch(() => undefined);
    }
  }, [list, known.tracks]);

  const markAll = async () => {
    if (!list.length) return;
    const r = await api<{ unread_count: number }>('/api/v1/notifications/read', { method: 'POST', body: { up_to: list[0].id } });
    const now = Date.now();
    setList((l) => l.map((n) => ({ ...n, read_at: n.read_at ?? now })));
    live.setUnread(r.unread_count);
  };
  const markOne = async (n: Notification) => {
    if (n.read_at) return;
    setList((l) => l.map((x) => (x.id === n.id ? { ...x, read_at: Date.now() } : x)));
    const r = await api<{ unread_count: number }>('/api/v1/notifications/read', { method: 'POST', body: { ids: [n.id] } });
    live.setUnread(r.unread_count);
  };

  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <p className="eyebrow">Activity</p>
          <h1>Notifications</h1>
        </div>
        <div className="head-actions">
          <label className="check small">
            <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} /> Unread only
          </label>
          <button className="btn ghost small" onClick={markAll} disabled={!live.unread} data-testid="mark-all-read">
            <Icon name="check" size={16} /> Mark all read
          </button>
        </div>
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
      {loaded && !list.length ? (
        <Empty icon="bell" title="You're all caught up">
          <p className="muted">Follows, likes, comments, mentions and messages show up here.</p>
        </Empty>
      ) : (
        <ul className="notifications" data-testid="notifications">
          {list.map((n) => {
            const d = describe(n, known);
            const to = linkFor(n);
            const body = (
              <>
                <span className={`notif-icon kind-${n.kind}`} aria-hidden="true">
                  <Icon name={d.icon as IconName} size={16} solid={n.kind === 'like'} />
                </span>
                <UserAvatar name={d.who} size={36} />
                <span className="notif-main">
                  <span>
                    <strong>{d.who}</strong> {d.what}
                  </span>
                  {n.text && <span className="notif-text">{n.text}</span>}
                  <time className="muted small">{timeAgo(n.created_at)}</time>
                </span>
                {!n.read_at && <span className="unread-dot" aria-label="Unread" />}
              </>
            );
            return (
              <li key={n.id} className={n.read_at ? 'notif' : 'notif unread-row'} data-testid="notification" data-kind={n.kind}>
                {to ? (
                  <Link to={to} onClick={() => void markOne(n)}>
                    {body}
                  </Link>
                ) : (
                  <button className="plain" onClick={() => void markOne(n)}>
                    {body}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {cursor && (
        <button className="btn ghost load-more" onClick={() => load(cursor)}>
          Load more
        </button>
      )}
    </div>
  );
}
