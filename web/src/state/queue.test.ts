import { describe, expect, it } from 'vitest';
import type { Track } from '../api/types';
import * as Q from './queue';

const t = (id: string): Track => ({ id, title: id, owner: { id: 'o', username: 'o' } }) as Track;

describe('queue', () => {
  it('plays a track inside its list, which becomes the queue', () => {
    const list = [t('a'), t('b'), t('c')];
    const q = Q.playNow(Q.emptyQueue, list[1], list);
    expect(q.index).toBe(1);
    expect(Q.current(q)?.id).toBe('b');
    expect(Q.next(q).index).toBe(2);
    expect(Q.next(Q.next(q))).toEqual(Q.next(q)); // stays on the last
  });

  it('plays a lone track right after the current one', () => {
    let q = Q.playNow(Q.emptyQueue, t('a'));
    q = Q.enqueue(q, t('z'));
    q = Q.playNow(q, t('b'));
    expect(q.tracks.map((x) => x.id)).toEqual(['a', 'b', 'z']);
    expect(q.index).toBe(1);
  });

  it('enqueue ignores duplicates and starts an empty queue', () => {
    let q = Q.enqueue(Q.emptyQueue, t('a'));
    expect(q.index).toBe(0);
    q = Q.enqueue(q, t('a'));
    expect(q.tracks).toHaveLength(1);
  });

  it('previous restarts past 3 seconds, else goes back', () => {
    const q = { tracks: [t('a'), t('b')], index: 1 };
    expect(Q.previousIndex(q, 10)).toBe(1);
    expect(Q.previousIndex(q, 1)).toBe(0);
    expect(Q.previousIndex({ ...q, index: 0 }, 1)).toBe(0);
  });

  it('removing keeps the current track current', () => {
    const q = { tracks: [t('a'), t('b'), t('c')], index: 1 };
    expect(Q.current(Q.removeAt(q, 0))?.id).toBe('b');
    expect(Q.current(Q.removeAt(q, 2))?.id).toBe('b');
    expect(Q.current(Q.removeAt(q, 1))?.id).toBe('c');
    expect(Q.removeAt({ tracks: [t('a')], index: 0 }, 0).index).toBe(-1);
  });

  it('formats times', () => {
    expect(Q.formatTime(0)).toBe('0:00');
    expect(Q.formatTime(61.9)).toBe('1:01');
    expect(Q.formatTime(3725)).toBe('1:02:05');
    expect(Q.formatTime(NaN)).toBe('0:00');
  });
});
