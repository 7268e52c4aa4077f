// Cover art, or when a track has none, a gradient derived from its id: every track gets a
// stable, distinct look instead of a grey placeholder.
import type { Track } from '../api/types';

export function hashHue(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % 360;
}

export function Art({ track, size = 56, className = '' }: { track: Pick<Track, 'id' | 'title' | 'cover_url'>; size?: number | string; className?: string }) {
  const hue = hashHue(track.id);
  const style = {
    width: size,
    height: size,
    background: `linear-gradient(135deg, hsl(${hue} 80% 58%), hsl(${(hue + 60) % 360} 70% 38%))`,
  };
  return (
    <div className={`art ${className}`} style={style} aria-hidden="true">
      {track.cover_url ? <img src={track.cover_url} alt="" loading="lazy" /> : <span>{(track.title || '?').slice(0, 1).toUpperCase()}</span>}
    </div>
  );
}

export function UserAvatar({ name, url, size = 32 }: { name: string; url?: string | null; size?: number }) {
  const hue = hashHue(name);
  return (
    <span
      className="avatar"
      style={{ width: size, height: size, background: `hsl(${hue} 55% 45%)`, fontSize: size * 0.42 }}
      aria-hidden="true"
    >
      {url ? <img src={url} alt="" /> : name.slice(0, 1).toUpperCase()}
    </span>
  );
}
