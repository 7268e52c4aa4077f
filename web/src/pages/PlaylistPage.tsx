import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Playlist, PlaylistItem, UserRef } from '../api/types';
import { Art } from '../components/Art';
import { Icon } from '../components/Icon';
import { ShareButton } from '../components/Social';
import { Empty } from '../components/TrackList';
import { useAuth } from '../state/auth';
import { usePlayer } from '../state/player';
import { formatTime } from '../state/queue';
import { useTitle } from '../state/useTitle';

// Moves one item in a list (for the optimistic reorder before the server's answer).
export function moveItem<T>(list: T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length || from === to) return list;
  const next = list.slice();
  const [it] = next.splice(from, 1);
  next.splice(to, 0, it);
  return next;
}

export function PlaylistPage() {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const player = usePlayer();
  const navigate = useNavigate();
  const [playlist, setPlaylist] = useState<Playlist | null>(null);
  const [items, setItems] = useState<PlaylistItem[]>([]);
  const [error, setError] = useState('');
  const [actionError, setActionError] = useState('');
  const [editing, setEditing] = useState(false);
  useTitle(playlist?.title);

  const load = useCallback(async () => {
    try {
      const [p, page] = await Promise.all([api<Playlist>(`/api/v1/playlists/${id}`), api<{ items: PlaylistItem[] }>(`/api/v1/playlists/${id}/items?limit=100`)]);
      setPlaylist(p);
      setItems(page.items);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  if (error) return <div className="page"><Empty icon="list" title="Playlist not found" level={1}><p className="muted">{error}</p></Empty></div>;
  if (!playlist) return <div className="page"><div className="track-hero skeleton" /></div>;
  const owner = user?.id === playlist.owner.id;
  const tracks = items.map((i) => i.track);
  const total = tracks.reduce((s, t) => s + (t.duration_ms || 0), 0);

  const move = async (from: number, to: number) => {
    const before = items;
    setItems(moveItem(items, from, to));
    try {
      await api(`/api/v1/playlists/${id}/items/${items[from].track.id}`, { method: 'PATCH', body: { position: to } });
      setActionError('');
    } catch (e) {
      setItems(before);
      setActionError(errorMessage(e));
    }
  };
  const remove = async (trackId: string) => {
    const before = items;
    setItems(items.filter((i) => i.track.id !== trackId));
    try {
      await api(`/api/v1/playlists/${id}/items/${trackId}`, { method: 'DELETE' });
    } catch (e) {
      setItems(before);
      setActionError(errorMessage(e));
    }
  };

  return (
    <div className="page">
      <section className="track-hero">
        <div className="playlist-art big" aria-hidden="true">
          <Icon name="list" size={64} />
        </div>
        <div className="track-head">
          <p className="eyebrow">
            Playlist{' '}
            {playlist.visibility === 'private' ? (
              <span className="badge" data-testid="playlist-visibility">
                <Icon name="lock" size={12} /> Private
              </span>
            ) : (
              <span className="badge" data-testid="playlist-visibility">
                <Icon name="globe" size={12} /> Public
              </span>
            )}{' '}
            {playlist.collaborative && <span className="badge">Collaborative</span>}
          </p>
          <h1>{playlist.title}</h1>
          <p className="track-by">
            by <Link to={`/u/${playlist.owner.username}`}>{playlist.owner.display_name || playlist.owner.username}</Link>
            <span className="muted">
              {' '}
              · {items.length} {items.length === 1 ? 'track' : 'tracks'}
              {total > 0 && ` · ${formatTime(total / 1000)}`}
            </span>
          </p>
          {playlist.description && <p className="description">{playlist.description}</p>}
          <div className="track-actions">
            <button className="play-btn big" disabled={!tracks.length} onClick={() => tracks.length && player.play(tracks[0], tracks)} aria-label="Play all">
              <Icon name="play" size={26} />
            </button>
            <ShareButton path={`/playlists/${playlist.id}`} title={playlist.title} />
            {owner && (
              <button className="btn ghost small" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
                <Icon name="settings" size={16} /> Edit
              </button>
            )}
            {owner && (
              <button
                className="btn ghost small danger"
                onClick={async () => {
                  if (!confirm(`Delete the playlist “${playlist.title}”?`)) return;
                  await api(`/api/v1/playlists/${playlist.id}`, { method: 'DELETE' });
                  navigate(`/u/${playlist.owner.username}?tab=playlists`);
                }}
              >
                <Icon name="trash" size={16} /> Delete
              </button>
            )}
          </div>
        </div>
      </section>
      {editing && owner && <EditPlaylist playlist={playlist} onSaved={(p) => setPlaylist(p)} />}
      {actionError && <p className="error-text" role="alert">{actionError}</p>}
      {!items.length ? (
        <Empty icon="music" title="No tracks yet">
          <p className="muted">Use “Add to playlist” on any track page.</p>
        </Empty>
      ) : (
        <ol className="rows" data-testid="playlist-items">
          {items.map((it, i) => {
            const t = it.track;
            const isCurrent = player.track?.id === t.id;
            return (
              <li key={t.id} className={isCurrent ? 'row playlist-row current' : 'row playlist-row'} data-testid="playlist-item">
                <span className="row-index">{i + 1}</span>
                <button className="icon-btn" disabled={t.state !== 'ready'} onClick={() => (isCurrent ? player.toggle() : player.play(t, tracks))} aria-label={isCurrent && player.playing ? `Pause ${t.title}` : `Play ${t.title}`}>
                  <Icon name={isCurrent && player.playing ? 'pause' : 'play'} size={18} />
                </button>
                <Art track={t} size={40} />
                <span className="row-main">
                  <Link to={`/tracks/${t.id}`}>{t.title}</Link>
                  <span className="muted small">{t.artist || t.owner.username}</span>
                </span>
                <span className="row-tools">
                  {playlist.may_edit && (
                    <>
                      <button className="icon-btn" onClick={() => move(i, i - 1)} disabled={i === 0} aria-label={`Move ${t.title} up`}>
                        <Icon name="up" size={16} />
                      </button>
                      <button className="icon-btn" onClick={() => move(i, i + 1)} disabled={i === items.length - 1} aria-label={`Move ${t.title} down`}>
                        <Icon name="down" size={16} />
                      </button>
                      <button className="icon-btn" onClick={() => remove(t.id)} aria-label={`Remove ${t.title}`}>
                        <Icon name="x" size={16} />
                      </button>
                    </>
                  )}
                </span>
                <span className="muted small row-time">{t.duration_ms ? formatTime(t.duration_ms / 1000) : '–'}</span>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}

function EditPlaylist({ playlist, onSaved }: { playlist: Playlist; onSaved(p: Playlist): void }) {
  const [title, setTitle] = useState(playlist.title);
  const [description, setDescription] = useState(playlist.description);
  const [visibility, setVisibility] = useState(playlist.visibility);
  const [collaborative, setCollaborative] = useState(playlist.collaborative);
  const [editors, setEditors] = useState<UserRef[]>([]);
  const [invite, setInvite] = useState('');
  const [msg, setMsg] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ editors: UserRef[] }>(`/api/v1/playlists/${playlist.id}/editors`)
      .then((r) => setEditors(r.editors))
      .catch(() => undefined);
  }, [playlist.id]);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      onSaved(await api<Playlist>(`/api/v1/playlists/${playlist.id}`, { method: 'PATCH', body: { title: title.trim(), description, visibility, collaborative } }));
      setMsg('Saved.');
      setError('');
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const addEditor = async (e: FormEvent) => {
    e.preventDefault();
    const name = invite.trim().replace(/^@/, '');
    try {
      await api(`/api/v1/playlists/${playlist.id}/editors/${encodeURIComponent(name)}`, { method: 'PUT' });
      const r = await api<{ editors: UserRef[] }>(`/api/v1/playlists/${playlist.id}/editors`);
      setEditors(r.editors);
      setInvite('');
      setError('');
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <div className="panel-row">
      <form className="panel form" onSubmit={save} aria-label="Playlist details">
        <h2>Details</h2>
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
        </label>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={2} maxLength={5000} />
        </label>
        <label>
          Who can see it
          <select value={visibility} onChange={(e) => setVisibility(e.target.value as 'public' | 'private')} data-testid="playlist-visibility-select">
            <option value="public">Everyone</option>
            <option value="private">Only me and invited editors</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={collaborative} onChange={(e) => setCollaborative(e.target.checked)} /> Collaborative
        </label>
        {msg && <p className="ok-text small">{msg}</p>}
        <div className="form-actions">
          <button className="btn small">Save</button>
        </div>
      </form>
      <section className="panel" aria-label="Collaborators">
        <h2>Collaborators</h2>
        <p className="muted small">Invited editors can add, remove and reorder tracks while the playlist is collaborative.</p>
        <ul className="user-list compact">
          {editors.map((u) => (
            <li key={u.id} className="user-item">
              <Link to={`/u/${u.username}`} className="user-item-name">
                <strong>{u.display_name || u.username}</strong> <span className="muted small">@{u.username}</span>
              </Link>
              <button
                className="icon-btn"
                aria-label={`Remove ${u.username}`}
                onClick={async () => {
                  await api(`/api/v1/playlists/${playlist.id}/editors/${encodeURIComponent(u.username)}`, { method: 'DELETE' });
                  setEditors((es) => es.filter((x) => x.id !== u.id));
                }}
              >
                <Icon name="x" size={16} />
              </button>
            </li>
          ))}
        </ul>
        <form className="inline-form" onSubmit={addEditor}>
          <input value={invite} onChange={(e) => setInvite(e.target.value)} placeholder="username" aria-label="Invite by username" />
          <button className="btn small" disabled={!invite.trim()}>
            Invite
          </button>
        </form>
        {error && <p className="error-text small" role="alert">{error}</p>}
      </section>
    </div>
  );
}
