// Comments come flat (replies carry reply_to); the page shows top-level comments by playback
// time with their replies under them, oldest reply first. One level deep, as the API allows.
import type { Comment } from '../api/types';

export interface Thread {
  comment: Comment;
  replies: Comment[];
}

export function threads(comments: Comment[]): Thread[] {
  const top = new Map<string, Thread>();
  for (const c of comments) if (!c.reply_to) top.set(c.id, { comment: c, replies: [] });
  for (const c of comments) {
    if (c.reply_to) top.get(c.reply_to)?.replies.push(c);
  }
  const list = [...top.values()];
  list.sort((a, b) => a.comment.at_ms - b.comment.at_ms || (a.comment.id < b.comment.id ? -1 : 1));
  for (const t of list) t.replies.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
  return list;
}

// Markers on the waveform: one per top-level comment, at its fraction of the track; markers
// closer than `minGap` (as a fraction of the width) are merged so avatars never pile up.
export interface Marker {
  fraction: number;
  comments: Comment[];
}

export function markers(comments: Comment[], durationMs: number, minGap = 0.02): Marker[] {
  if (durationMs <= 0) return [];
  const top = comments.filter((c) => !c.reply_to).sort((a, b) => a.at_ms - b.at_ms);
  const out: Marker[] = [];
  for (const c of top) {
    const f = Math.min(1, Math.max(0, c.at_ms / durationMs));
    const last = out[out.length - 1];
    if (last && f - last.fraction < minGap) last.comments.push(c);
    else out.push({ fraction: f, comments: [c] });
  }
  return out;
}

export function withoutComment(comments: Comment[], id: string): Comment[] {
  // Deleting a comment deletes its replies too (docs/social.md).
  return comments.filter((c) => c.id !== id && c.reply_to !== id);
}
