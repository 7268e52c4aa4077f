import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTitle } from '../state/useTitle';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Comment, CommentPage, Track, TrackCounts } from '../api/types';
import { Art, UserAvatar } from '../components/Art';
import { AddToPlaylist, formatCount, LikeRepost, ShareButton, timeAgo } from '../components/Social';
import { markers, threads, withoutComment } from '../state/comments';
import { rememberUsers } from '../state/names';
import { Icon } from '../components/Icon';
import { Empty, StateBadge } from '../components/TrackList';
import { WaveformView } from '../components/Waveform';
import { useAuth } from '../state/auth';
import { usePlayer } from '../state/player';
import { formatTime } from '../state/queue';
import { reportTrackView } from '../state/playReport';

export function TrackPage() {
  const { id = '' } = useParams();
  const { user, ready: authReady } = useAuth();
  const player = usePlayer();
  const navigate = useNavigate();
  const [track, setTrack] = useState<Track | null>(null);
  const [error, setError] = useState('');
  const [counts, setCounts] = useState<TrackCounts | null>(null);
  const [comments, setComments] = useState<Comment[]>([]);
  const [focused, setFocused] = useState<string | null>(null);
  useTitle(track?.title);

  // Again once the session is restored: the counts carry the caller's own like/repost state.
  useEffect(() => {
    setCounts(null);
    let live = true;
    api<TrackCounts>(`/api/v1/tracks/${id}/stats`)
      .then((c) => live && setCounts(c))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [id, user?.id]);

  useEffect(() => {
    setComments([]);
    // Comments by playback time, all pages up to a sensible bound for one screen.
    (async () => {
      let cursor: string | null = null;
      let all: Comment[] = [];
      for (let i = 0; i < 5; i++) {
        const page: CommentPage = await api<CommentPage>(`/api/v1/tracks/${id}/comments?sort=time&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        all = [...all, ...page.comments];
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      rememberUsers(all.map((c) => c.author));
      setComments(all);
    })().catch(() => undefined);
  }, [id]);

  // Who is asking matters (a private or taken-down track exists only for its owner and staff):
  // load once the session is restored, and again when the account changes.
  const viewerId = user?.id ?? '';
  useEffect(() => {
    if (!authReady) return;
    let live = true;
    let timer: number | undefined;
    setError('');
    const load = async () => {
      try {
        const t = await api<Track>(`/api/v1/tracks/${id}`);
        if (!live) return;
        setTrack(t);
        if (t.state === 'uploaded' || t.state === 'processing') timer = window.setTimeout(load, 1500);
      } catch (e) {
        if (live) setError(errorMessage(e));
      }
    };
    void load();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id, authReady, viewerId]);

  // One view per showing of a playable track that is not the viewer's own (polling reloads too).
  const reportedView = useRef('');
  const viewable = !!track && track.id === id && track.state === 'ready' && !track.taken_down;
  const ownTrack = !!track && user?.id === track.owner.id;
  useEffect(() => {
    if (!authReady || !viewable || ownTrack || reportedView.current === id) return;
    reportedView.current = id;
    reportTrackView(id);
  }, [id, authReady, viewable, ownTrack]);

  if (error) {
    return (
      <div className="page">
        <Empty icon="music" title="Track not found" level={1}>
          <p className="muted">{error}</p>
        </Empty>
      </div>
    );
  }
  if (!track) return <div className="page"><div className="track-hero skeleton" /></div>;

  const isCurrent = player.track?.id === track.id;
  const duration = isCurrent && player.duration ? player.duration : track.duration_ms / 1000;
  const progress = isCurrent && duration ? player.position / duration : 0;
  // A taken-down track is shown to its owner (and moderators) but no longer plays.
  const ready = track.state === 'ready' && !track.taken_down;
  const mine = user?.id === track.owner.id;

  const seek = (fraction: number) => {
    if (!ready) return;
    if (isCurrent) player.seekFraction(fraction);
    else {
      player.play(track);
      // Seek once the new source knows its duration.
      const audio = document.getElementById('veza-audio') as HTMLAudioElement | null;
      audio?.addEventListener('loadedmetadata', () => (audio.currentTime = fraction * audio.duration), { once: true });
    }
  };

  return (
    <div className="page">
      <section className="track-hero">
        <Art track={track} size={200} className="track-art" />
        <div className="track-head">
          <p className="eyebrow">
            Track <StateBadge track={track} />
          </p>
          <h1>{track.title}</h1>
          <p className="track-by">
            <Link to={`/u/${track.owner.username}`}>{track.artist || track.owner.username}</Link>
            {track.album && <span className="muted"> · {track.album}</span>}
            {track.year && <span className="muted"> · {track.year}</span>}
          </p>
          <div className="track-actions">
            <button
              className="play-btn big"
              disabled={!ready}
              onClick={() => (isCurrent ? player.toggle() : player.play(track))}
              aria-label={isCurrent && player.playing ? 'Pause' : 'Play'}
              data-testid="track-play"
            >
              <Icon name={isCurrent && player.playing ? 'pause' : 'play'} size={26} />
            </button>
            <button className="btn ghost small" onClick={() => player.enqueue(track)} disabled={!ready}>
              <Icon name="queue" size={16} /> Add to queue
            </button>
            {ready && <LikeRepost trackId={track.id} counts={counts} setCounts={setCounts} canRepost={track.visibility === 'public'} />}
            {ready && <AddToPlaylist trackId={track.id} />}
            <ShareButton path={`/tracks/${track.id}`} title={track.title} />
            {mine && (
              <button
                className="btn ghost small danger"
                onClick={async () => {
                  if (!confirm(`Delete “${track.title}” for good?`)) return;
                  await api(`/api/v1/tracks/${track.id}`, { method: 'DELETE' });
                  navigate('/library');
                }}
              >
                Delete
              </button>
            )}
          </div>
        </div>
      </section>

      {track.taken_down ? (
        <div className="takedown-note" role="alert" data-testid="taken-down">
          <Icon name="alert" size={22} />
          <div>
            <strong>{mine ? 'Your track was taken down by a moderator' : 'Taken down'}</strong>
            <p>
              Reason: {track.taken_down.reason}
              <span className="muted small"> · {new Date(track.taken_down.at).toLocaleString()}</span>
            </p>
            <p className="muted small">It is hidden from everyone else and cannot be played until a moderator restores it.</p>
          </div>
        </div>
      ) : ready ? (
        <WaveformView track={track} progress={progress} duration={duration} onSeek={seek} height={120}>
          <div className="markers" role="group" aria-label="Comments on the timeline">
            {markers(comments, (duration || track.duration_ms / 1000) * 1000).map((m) => (
              <button
                key={m.comments[0].id}
                className={m.comments.some((c) => c.id === focused) ? 'marker active' : 'marker'}
                style={{ left: `${m.fraction * 100}%` }}
                onClick={() => {
                  setFocused(m.comments[0].id);
                  document.getElementById(`comment-${m.comments[0].id}`)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
                }}
                aria-label={`Comment by ${m.comments[0].author.username} at ${formatTime(m.comments[0].at_ms / 1000)}`}
                title={`${m.comments[0].author.display_name || m.comments[0].author.username} · ${formatTime(m.comments[0].at_ms / 1000)}: ${m.comments[0].body}`}
                data-testid="comment-marker"
              >
                <UserAvatar name={m.comments[0].author.username} size={20} />
                {m.comments.length > 1 && <span className="marker-more">+{m.comments.length - 1}</span>}
              </button>
            ))}
          </div>
        </WaveformView>
      ) : track.state === 'failed' ? (
        <p className="error-text" role="alert">
          Processing failed: {track.failure_reason || 'unknown error'}
        </p>
      ) : (
        <div className="processing" role="status">
          <div className="progress processing" role="progressbar" aria-label="Processing" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(track.progress * 100)}>
            <span style={{ width: `${Math.round(track.progress * 100)}%` }} />
          </div>
          <span className="muted small">Processing… {Math.round(track.progress * 100)}%</span>
        </div>
      )}

      <div className="track-body">
        <div>
          <h2>About</h2>
          <p className="description">{track.description || <span className="muted">No description.</span>}</p>
          {ready && (
            <Comments
              track={track}
              comments={comments}
              setComments={(f) => {
                setComments(f);
              }}
              onCount={(d) => setCounts((c) => (c ? { ...c, comments: Math.max(0, c.comments + d) } : c))}
              position={isCurrent ? player.position : 0}
              focused={focused}
              onSeek={(ms) => seek(Math.min(0.999, ms / 1000 / (duration || 1)))}
              total={counts?.comments}
            />
          )}
        </div>
        <dl className="facts">
          {counts && (
            <div>
              <dt>Plays</dt>
              <dd data-testid="track-plays">{formatCount(counts.plays)}</dd>
            </div>
          )}
          {counts && (
            <div>
              <dt>Likes · reposts</dt>
              <dd data-testid="track-counts">
                {formatCount(counts.likes)} · {formatCount(counts.reposts)}
              </dd>
            </div>
          )}
          <div>
            <dt>Length</dt>
            <dd>{formatTime(track.duration_ms / 1000)}</dd>
          </div>
          {track.genre && (
            <div>
              <dt>Genre</dt>
              <dd>{track.genre}</dd>
            </div>
          )}
          {track.format && (
            <div>
              <dt>Source</dt>
              <dd>
                {track.format.codec.startsWith('pcm') ? 'PCM' : track.format.codec.toUpperCase()} · {Math.round(track.format.sample_rate / 100) / 10} kHz{track.format.lossless ? ' · lossless' : ''}
              </dd>
            </div>
          )}
          {track.loudness && (
            <div>
              <dt>Loudness</dt>
              <dd>{track.loudness.integrated_lufs.toFixed(1)} LUFS</dd>
            </div>
          )}
          <div>
            <dt>Uploaded</dt>
            <dd>{new Date(track.created_at).toLocaleDateString()}</dd>
          </div>
        </dl>
      </div>
    </div>
  );
}

function Comments({
  track,
  comments,
  setComments,
  onCount,
  position,
  focused,
  onSeek,
  total,
}: {
  track: Track;
  comments: Comment[];
  setComments(f: (c: Comment[]) => Comment[]): void;
  onCount(delta: number): void;
  position: number;
  focused: string | null;
  onSeek(ms: number): void;
  total?: number;
}) {
  const { user } = useAuth();
  const [body, setBody] = useState('');
  const [replyTo, setReplyTo] = useState<Comment | null>(null);
  const [replyBody, setReplyBody] = useState('');
  const [error, setError] = useState('');
  const atMs = Math.min(Math.round(position * 1000), track.duration_ms || Math.round(position * 1000));

  const post = async (text: string, at: number, parent: Comment | null) => {
    try {
      const c = await api<Comment>(`/api/v1/tracks/${track.id}/comments`, { method: 'POST', body: { body: text, at_ms: at, ...(parent ? { reply_to: parent.id } : {}) } });
      setComments((cs) => [...cs, c]);
      onCount(1);
      setError('');
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (body.trim() && (await post(body.trim(), atMs, null))) setBody('');
  };
  const submitReply = async (e: FormEvent) => {
    e.preventDefault();
    if (replyTo && replyBody.trim() && (await post(replyBody.trim(), replyTo.at_ms, replyTo))) {
      setReplyBody('');
      setReplyTo(null);
    }
  };
  const remove = async (c: Comment) => {
    if (!confirm('Delete this comment?')) return;
    try {
      await api(`/api/v1/comments/${c.id}`, { method: 'DELETE' });
      const gone = 1 + (c.reply_to ? 0 : comments.filter((x) => x.reply_to === c.id).length);
      setComments((cs) => withoutComment(cs, c.id));
      onCount(-gone);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const canDelete = (c: Comment) => !!user && (c.author.id === user.id || track.owner.id === user.id || user.role !== 'user');

  const one = (c: Comment, reply: boolean) => (
    <div className={focused === c.id ? 'comment focused' : 'comment'} id={`comment-${c.id}`} data-testid={reply ? 'comment-reply' : 'comment'}>
      <UserAvatar name={c.author.username} size={reply ? 28 : 36} />
      <div className="comment-main">
        <div className="comment-head">
          <Link to={`/u/${c.author.username}`}>
            <strong>{c.author.display_name || c.author.username}</strong>
          </Link>
          {!reply && (
            <button className="stamp" onClick={() => onSeek(c.at_ms)} aria-label={`Play from ${formatTime(c.at_ms / 1000)}`}>
              at {formatTime(c.at_ms / 1000)}
            </button>
          )}
          <span className="muted small">{timeAgo(c.created_at)}</span>
        </div>
        <p className="comment-body">{c.body}</p>
        <div className="comment-tools">
          {!reply && user && (
            <button className="link-btn small" onClick={() => setReplyTo(replyTo?.id === c.id ? null : c)}>
              <Icon name="reply" size={14} /> Reply
            </button>
          )}
          {canDelete(c) && (
            <button className="link-btn small danger" onClick={() => remove(c)} aria-label={`Delete comment: ${c.body.slice(0, 40)}`}>
              <Icon name="trash" size={14} /> Delete
            </button>
          )}
        </div>
      </div>
    </div>
  );

  return (
    <section className="comments" aria-labelledby="comments-heading">
      <h2 id="comments-heading">
        Comments <span className="muted">{total ?? comments.length}</span>
      </h2>
      {user ? (
        <form className="comment-form" onSubmit={submit}>
          <UserAvatar name={user.username} url={user.avatar?.['128']} size={36} />
          <input value={body} onChange={(e) => setBody(e.target.value)} placeholder={`Comment at ${formatTime(atMs / 1000)}…`} aria-label="Comment" maxLength={2000} data-testid="comment-input" />
          <button className="btn small" disabled={!body.trim()}>
            Post
          </button>
        </form>
      ) : (
        <p className="muted">
          <Link to="/login">Sign in</Link> to comment.
        </p>
      )}
      {error && <p className="error-text small" role="alert">{error}</p>}
      {!comments.length && <p className="muted small">No comments yet. Play the track and say something at the moment you like.</p>}
      <ol className="comment-list">
        {threads(comments).map((t) => (
          <li key={t.comment.id}>
            {one(t.comment, false)}
            {(t.replies.length > 0 || replyTo?.id === t.comment.id) && (
              <ol className="replies">
                {t.replies.map((r) => (
                  <li key={r.id}>{one(r, true)}</li>
                ))}
                {replyTo?.id === t.comment.id && (
                  <li>
                    <form className="comment-form reply" onSubmit={submitReply}>
                      <input value={replyBody} onChange={(e) => setReplyBody(e.target.value)} placeholder={`Reply to ${t.comment.author.username}…`} aria-label="Reply" autoFocus maxLength={2000} data-testid="reply-input" />
                      <button className="btn small" disabled={!replyBody.trim()}>
                        Reply
                      </button>
                    </form>
                  </li>
                )}
              </ol>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
