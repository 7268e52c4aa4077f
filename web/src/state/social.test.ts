import { describe, expect, it } from 'vitest';
import { formatCount, timeAgo } from '../components/Social';
import { moveItem } from '../pages/PlaylistPage';
import { toggled } from './social';
import { DURATIONS, searchUrl } from './search';

describe('optimistic sets', () => {
  it('adds and removes without touching the original', () => {
    const a = new Set(['x']);
    const b = toggled(a, 'y', true);
    expect([...b].sort()).toEqual(['x', 'y']);
    expect([...toggled(b, 'x', false)]).toEqual(['y']);
    expect([...a]).toEqual(['x']);
  });
});

describe('counters and times', () => {
  it('shortens big numbers', () => {
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1k');
    expect(formatCount(1540)).toBe('1.5k');
    expect(formatCount(25_300)).toBe('25k');
    expect(formatCount(2_500_000)).toBe('2.5M');
  });
  it('says how long ago', () => {
    const now = 1_764_126_000_000;
    expect(timeAgo(now - 10_000, now)).toBe('just now');
    expect(timeAgo(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(timeAgo(now - 3 * 3600_000, now)).toBe('3 h ago');
    expect(timeAgo(now - 2 * 86400_000, now)).toBe('2 d ago');
  });
});

describe('playlist reorder', () => {
  it('moves one item and leaves out-of-range moves alone', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveItem(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b']);
    const same = ['a', 'b'];
    expect(moveItem(same, 0, -1)).toBe(same);
    expect(moveItem(same, 1, 2)).toBe(same);
  });
});

describe('search urls', () => {
  it('asks for every kind at once for instant results', () => {
    expect(searchUrl('  night drive ', 'all')).toBe('/api/v1/search?q=night+drive&type=all');
  });
  it('adds track filters only to track searches', () => {
    const u = new URL(searchUrl('drive', 'track', 'Synthwave', 'medium', 'c1'), 'http://x');
    expect(u.searchParams.get('genre')).toBe('Synthwave');
    expect(u.searchParams.get('min_duration_ms')).toBe(String(DURATIONS.medium.min));
    expect(u.searchParams.get('max_duration_ms')).toBe(String(DURATIONS.medium.max));
    expect(u.searchParams.get('cursor')).toBe('c1');
    expect(u.searchParams.get('limit')).toBe('20');
    const users = new URL(searchUrl('drive', 'user', 'Synthwave', 'long'), 'http://x');
    expect(users.searchParams.has('genre')).toBe(false);
    expect(users.searchParams.has('min_duration_ms')).toBe(false);
  });
  it('leaves out the bound a length filter does not have', () => {
    const u = new URL(searchUrl('x', 'track', '', 'short'), 'http://x');
    expect(u.searchParams.has('min_duration_ms')).toBe(false);
    expect(u.searchParams.get('max_duration_ms')).toBe('120000');
  });
});

describe('creator stats helpers', async () => {
  const { dayX, rangeFor, retentionCurve } = await import('./analytics');
  it('turns days into chart x values and ranges into dates', () => {
    expect(dayX([{ date: '2026-11-01' }, { date: '2026-11-02' }])).toEqual([Date.UTC(2026, 10, 1) / 1000, Date.UTC(2026, 10, 2) / 1000]);
    expect(rangeFor(7, new Date('2026-11-26T10:00:00Z'))).toEqual({ from: '2026-11-20', to: '2026-11-26' });
  });
  it('draws retention as the share that reached each point', () => {
    const r = retentionCurve([
      { start_ms: 0, end_ms: 2000, stops: 1, reached: 4 },
      { start_ms: 2000, end_ms: 4000, stops: 2, reached: 3 },
      { start_ms: 4000, end_ms: 6000, stops: 1, reached: 1 },
    ]);
    expect(r.x).toEqual([0, 2, 4]);
    expect(r.y).toEqual([100, 75, 25]);
    expect(retentionCurve([]).y).toEqual([]);
  });
});
