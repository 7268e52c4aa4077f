import { describe, expect, it } from 'vitest';
import type { Comment } from '../api/types';
import { markers, threads, withoutComment } from './comments';

const c = (id: string, at_ms: number, reply_to: string | null = null, created_at = 0): Comment => ({
  id,
  track_id: 't',
  author: { id: 'u', username: 'u', display_name: '' },
  reply_to,
  body: id,
  at_ms,
  created_at,
  edited_at: null,
});

describe('comment threads', () => {
  it('nests replies under their parent, parents by playback time', () => {
    const t = threads([c('b', 5000), c('r2', 5000, 'b', 20), c('a', 1000), c('r1', 5000, 'b', 10), c('orphan', 0, 'gone')]);
    expect(t.map((x) => x.comment.id)).toEqual(['a', 'b']);
    expect(t[1].replies.map((r) => r.id)).toEqual(['r1', 'r2']);
  });
  it('places markers by fraction and merges close ones', () => {
    const m = markers([c('a', 0), c('b', 100), c('c', 50_000), c('r', 50_000, 'c')], 100_000);
    expect(m).toHaveLength(2);
    expect(m[0].comments.map((x) => x.id)).toEqual(['a', 'b']);
    expect(m[1].fraction).toBe(0.5);
    expect(markers([c('a', 1)], 0)).toEqual([]);
  });
  it('deleting a comment takes its replies with it', () => {
    expect(withoutComment([c('a', 0), c('r', 0, 'a'), c('b', 0)], 'a').map((x) => x.id)).toEqual(['b']);
  });
});
