// The play queue as pure functions, so its rules are unit-tested without an <audio> element.
import type { Track } from '../api/types';

export interface QueueState {
  tracks: Track[];
  index: number; // -1 when nothing is loaded
}

export const emptyQueue: QueueState = { tracks: [], index: -1 };

export function current(q: QueueState): Track | null {
  return q.index >= 0 && q.index < q.tracks.length ? q.tracks[q.index] : null;
}

// Play a track now; when it is part of a list (a feed, a profile), that list becomes the queue.
export function playNow(q: QueueState, track: Track, context?: Track[]): QueueState {
  if (context && context.length) {
    const i = context.findIndex((t) => t.id === track.id);
    if (i >= 0) return { tracks: context.slice(), index: i };
  }
  const existing = q.tracks.findIndex((t) => t.id === track.id);
  if (existing >= 0) return { ...q, index: existing };
  const tracks = [...q.tracks.slice(0, q.index + 1), track, ...q.tracks.slice(q.index + 1)];
  return { tracks, index: q.index + 1 };
}

export function enqueue(q: QueueState, track: Track): QueueState {
  if (q.tracks.some((t) => t.id === track.id)) return q;
  const tracks = [...q.tracks, track];
  return { tracks, index: q.index < 0 ? 0 : q.index };
}

export function removeAt(q: QueueState, i: number): QueueState {
  if (i < 0 || i >= q.tracks.length) return q;
  const tracks = q.tracks.filter((_, j) => j !== i);
  let index = q.index;
  if (i < q.index) index--;
  else if (i === q.index) index = Math.min(index, tracks.length - 1);
  return { tracks, index: tracks.length ? index : -1 };
}

export function next(q: QueueState): QueueState {
  return q.index + 1 < q.tracks.length ? { ...q, index: q.index + 1 } : q;
}

// Like every player: "previous" past the first seconds restarts the track instead.
export function previousIndex(q: QueueState, positionSeconds: number): number {
  if (positionSeconds > 3 || q.index <= 0) return q.index;
  return q.index - 1;
}

export function replaceTrack(q: QueueState, track: Track): QueueState {
  const i = q.tracks.findIndex((t) => t.id === track.id);
  if (i < 0) return q;
  const tracks = q.tracks.slice();
  tracks[i] = track;
  return { ...q, tracks };
}

export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
