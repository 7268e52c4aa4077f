// Search query building and debouncing (docs/search.md): pure, so unit tests cover them.
import { useEffect, useState } from 'react';

export type SearchType = 'all' | 'track' | 'user' | 'room' | 'playlist';
export type DurationFilter = '' | 'short' | 'medium' | 'long';

export const DURATIONS: Record<Exclude<DurationFilter, ''>, { label: string; min?: number; max?: number }> = {
  short: { label: 'Under 2 min', max: 120_000 },
  medium: { label: '2–6 min', min: 120_000, max: 360_000 },
  long: { label: 'Over 6 min', min: 360_000 },
};

export function searchUrl(q: string, type: SearchType, genre = '', duration: DurationFilter = '', cursor?: string | null): string {
  const p = new URLSearchParams({ q: q.trim(), type });
  if (type === 'track') {
    if (genre.trim()) p.set('genre', genre.trim());
    const d = duration ? DURATIONS[duration] : null;
    if (d?.min !== undefined) p.set('min_duration_ms', String(d.min));
    if (d?.max !== undefined) p.set('max_duration_ms', String(d.max));
  }
  if (type !== 'all') p.set('limit', '20');
  if (cursor) p.set('cursor', cursor);
  return `/api/v1/search?${p.toString()}`;
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
