import { useEffect, useState } from 'react';
import { useTitle } from '../state/useTitle';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Track } from '../api/types';
import { Art } from '../components/Art';
import { Icon } from '../components/Icon';
import { Empty, StateBadge } from '../components/TrackList';
import { WaveformView } from '../components/Waveform';
import { useAuth } from '../state/auth';
import { usePlayer } from '../state/player';
import { formatTime } from '../state/queue';

export function TrackPage() {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const player = usePlayer();
  const navigate = useNavigate();
  const [track, setTrack] = useState<Track | null>(null);
  const [error, setError] = useState('');
  const [copied, setCopied] = useState(false);
  useTitle(track?.title);

  useEffect(() => {
    let live = true;
    let timer: number | undefined;
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
  }, [id]);

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
  const ready = track.state === 'ready';
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

  const share = async () => {
    const url = `${location.origin}/tracks/${track.id}`;
    try {
      if (navigator.share) await navigator.share({ title: track.title, url });
      else {
        await navigator.clipboard.writeText(url);
        setCopied(true);
        window.setTimeout(() => setCopied(false), 2000);
      }
    } catch {
      /* dismissed */
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
            <button className="btn ghost small" onClick={share}>
              <Icon name="link" size={16} /> {copied ? 'Link copied' : 'Share'}
            </button>
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

      {ready ? (
        <WaveformView track={track} progress={progress} duration={duration} onSeek={seek} height={120} />
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
        </div>
        <dl className="facts">
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
