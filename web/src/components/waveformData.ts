import { api } from '../api/client';
import type { Track, Waveform } from '../api/types';

// Reduces peaks to `bars` values (max of each bucket), so a 2048-point waveform draws as bars
// that fit the canvas width whatever the screen.
export function bucketPeaks(peaks: number[], bars: number): number[] {
  if (bars <= 0 || !peaks.length) return [];
  const out = new Array<number>(bars).fill(0);
  for (let b = 0; b < bars; b++) {
    const start = Math.floor((b * peaks.length) / bars);
    const end = Math.max(start + 1, Math.floor(((b + 1) * peaks.length) / bars));
    let m = 0;
    for (let i = start; i < end && i < peaks.length; i++) m = Math.max(m, peaks[i]);
    out[b] = Math.max(0, Math.min(1, m));
  }
  return out;
}

export function isWaveform(v: unknown): v is Waveform {
  const w = v as Waveform;
  return !!w && typeof w === 'object' && Array.isArray(w.peaks) && w.peaks.every((p) => typeof p === 'number');
}

// A calm, deterministic shape shown while the real peaks load or when a server has none.
export function placeholderPeaks(id: string, n = 160): number[] {
  let seed = 0;
  for (let i = 0; i < id.length; i++) seed = (seed * 31 + id.charCodeAt(i)) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const envelope = 0.35 + 0.35 * Math.sin((i / n) * Math.PI);
    out.push(Math.min(1, envelope * (0.6 + (seed / 2 ** 32) * 0.6)));
  }
  return out;
}

const cache = new Map<string, Promise<number[] | null>>();

// waveform_url (signed) when the track has one; else the authenticated route; else null.
export function loadPeaks(track: Track): Promise<number[] | null> {
  const key = `${track.id}:${track.updated_at}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      if (track.state !== 'ready') return null;
      try {
        const body = track.waveform_url
          ? await fetch(track.waveform_url).then((r) => (r.ok ? r.json() : null))
          : await api<unknown>(`/api/v1/tracks/${track.id}/waveform`);
        return isWaveform(body) ? body.peaks : null;
      } catch {
        return null;
      }
    })();
    cache.set(key, p);
  }
  return p;
}
