import { Link } from 'react-router-dom';
import type { Track } from '../api/types';
import { usePlayer } from '../state/player';
import { formatTime } from '../state/queue';
import { Art } from './Art';
import { Icon } from './Icon';

export function StateBadge({ track }: { track: Track }) {
  if (track.taken_down) return <span className="badge failed" title={track.taken_down.reason}>Taken down</span>;
  if (track.state === 'ready') return null;
  const label = track.state === 'failed' ? 'Failed' : track.state === 'processing' ? `Processing ${Math.round(track.progress * 100)}%` : 'Queued';
  return <span className={`badge ${track.state}`}>{label}</span>;
}

export function TrackCard({ track, context }: { track: Track; context: Track[] }) {
  const p = usePlayer();
  const isCurrent = p.track?.id === track.id;
  const playable = track.state === 'ready' && !track.taken_down;
  return (
    <article className={isCurrent ? 'card current' : 'card'}>
      <div className="card-art">
        <Art track={track} size="100%" />
        {playable && (
          <button
            className="card-play"
            onClick={() => (isCurrent ? p.toggle() : p.play(track, context))}
            aria-label={isCurrent && p.playing ? `Pause ${track.title}` : `Play ${track.title}`}
          >
            <Icon name={isCurrent && p.playing ? 'pause' : 'play'} size={22} />
          </button>
        )}
      </div>
      <Link to={`/tracks/${track.id}`} className="card-title">
        {track.title}
      </Link>
      <div className="card-sub">
        <Link to={`/u/${track.owner.username}`} className="muted small">
          {track.artist || track.owner.username}
        </Link>
        <StateBadge track={track} />
      </div>
    </article>
  );
}

export function TrackRows({ tracks }: { tracks: Track[] }) {
  const p = usePlayer();
  return (
    <ol className="rows">
      {tracks.map((t, i) => {
        const isCurrent = p.track?.id === t.id;
        return (
          <li key={t.id} className={isCurrent ? 'row current' : 'row'}>
            <span className="row-index">{i + 1}</span>
            <button
              className="icon-btn"
              disabled={t.state !== 'ready' || !!t.taken_down}
              onClick={() => (isCurrent ? p.toggle() : p.play(t, tracks))}
              aria-label={isCurrent && p.playing ? `Pause ${t.title}` : `Play ${t.title}`}
            >
              <Icon name={isCurrent && p.playing ? 'pause' : 'play'} size={18} />
            </button>
            <Art track={t} size={40} />
            <span className="row-main">
              <Link to={`/tracks/${t.id}`}>{t.title}</Link>
              <span className="muted small">{t.artist || t.owner.username}</span>
            </span>
            <StateBadge track={t} />
            <span className="muted small row-vis">{t.visibility}</span>
            <span className="muted small row-time">{t.duration_ms ? formatTime(t.duration_ms / 1000) : '–'}</span>
          </li>
        );
      })}
    </ol>
  );
}

export function Empty({ icon, title, level = 2, children }: { icon: Parameters<typeof Icon>[0]['name']; title: string; level?: 1 | 2; children?: React.ReactNode }) {
  const Heading = level === 1 ? 'h1' : 'h2';
  return (
    <div className="empty">
      <div className="empty-icon">
        <Icon name={icon} size={28} />
      </div>
      <Heading>{title}</Heading>
      {children}
    </div>
  );
}
