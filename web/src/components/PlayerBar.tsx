import { useState } from 'react';
import { Link } from 'react-router-dom';
import { usePlayer } from '../state/player';
import { formatTime } from '../state/queue';
import { Art } from './Art';
import { Icon } from './Icon';

export function PlayerBar() {
  const p = usePlayer();
  const [queueOpen, setQueueOpen] = useState(false);
  if (!p.track) return null;
  const t = p.track;
  const duration = p.duration || t.duration_ms / 1000;
  return (
    <section className="player" aria-label="Player">
      <div className="player-track">
        <Art track={t} size={48} />
        <div className="player-meta">
          <Link to={`/tracks/${t.id}`} className="player-title" title={t.title}>
            {t.title}
          </Link>
          <Link to={`/u/${t.owner.username}`} className="muted small">
            {t.artist || t.owner.username}
          </Link>
        </div>
      </div>

      <div className="player-center">
        <div className="player-buttons">
          <button className="icon-btn" onClick={p.previous} aria-label="Previous track" title="Previous (Shift+←)">
            <Icon name="prev" />
          </button>
          <button
            className="play-btn"
            onClick={p.toggle}
            aria-label={p.playing ? 'Pause' : 'Play'}
            title="Play/pause (Space)"
            data-testid="player-toggle"
          >
            <Icon name={p.playing ? 'pause' : 'play'} size={22} />
          </button>
          <button className="icon-btn" onClick={p.next} aria-label="Next track" title="Next (Shift+→)">
            <Icon name="next" />
          </button>
        </div>
        <div className="player-seek">
          <span className="time">{formatTime(p.position)}</span>
          <input
            type="range"
            min={0}
            max={duration || 0}
            step={0.1}
            value={Math.min(p.position, duration || 0)}
            onChange={(e) => p.seek(Number(e.target.value))}
            aria-label="Seek"
            aria-valuetext={`${formatTime(p.position)} of ${formatTime(duration)}`}
            style={{ '--fill': `${duration ? (p.position / duration) * 100 : 0}%` } as React.CSSProperties}
          />
          <span className="time">{formatTime(duration)}</span>
        </div>
        {(p.error || p.buffering) && (
          <div className={p.error ? 'player-status error' : 'player-status'} role="status">
            {p.error || 'Buffering…'}
          </div>
        )}
      </div>

      <div className="player-right">
        <button className="icon-btn" onClick={p.toggleMute} aria-label={p.muted ? 'Unmute' : 'Mute'} title="Mute (M)">
          <Icon name={p.muted || p.volume === 0 ? 'mute' : 'volume'} />
        </button>
        <input
          type="range"
          className="volume"
          min={0}
          max={1}
          step={0.01}
          value={p.muted ? 0 : p.volume}
          onChange={(e) => p.setVolume(Number(e.target.value))}
          aria-label="Volume"
          style={{ '--fill': `${(p.muted ? 0 : p.volume) * 100}%` } as React.CSSProperties}
        />
        <button
          className={queueOpen ? 'icon-btn active' : 'icon-btn'}
          onClick={() => setQueueOpen((o) => !o)}
          aria-label="Queue"
          aria-expanded={queueOpen}
          aria-controls="queue-panel"
        >
          <Icon name="queue" />
        </button>
      </div>

      {queueOpen && (
        <div className="queue-panel" id="queue-panel" role="dialog" aria-label="Play queue">
          <div className="queue-head">
            <h2>Up next</h2>
            <button className="icon-btn" onClick={() => setQueueOpen(false)} aria-label="Close queue">
              <Icon name="x" />
            </button>
          </div>
          <ol>
            {p.queue.tracks.map((q, i) => (
              <li key={q.id} className={i === p.queue.index ? 'current' : ''}>
                <button className="queue-item" onClick={() => p.jumpTo(i)}>
                  <Art track={q} size={36} />
                  <span>
                    <span className="queue-title">{q.title}</span>
                    <span className="muted small">{q.artist || q.owner.username}</span>
                  </span>
                </button>
                <button className="icon-btn" onClick={() => p.removeFromQueue(i)} aria-label={`Remove ${q.title} from the queue`}>
                  <Icon name="x" size={16} />
                </button>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
