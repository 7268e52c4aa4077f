// Shapes and helpers for the creator stats page (docs/analytics.md).
import { api } from '../api/client';

let available: Promise<boolean> | null = null;
// Servers without the analytics service answer 404: the Stats link hides then.
export function analyticsAvailable(): Promise<boolean> {
  available ??= api('/api/v1/analytics/me')
    .then(() => true)
    .catch((e) => (e as { status?: number }).status !== 404);
  return available;
}

export interface Totals {
  plays: number;
  qualified_plays: number;
  listeners: number;
  completions: number;
  views: number;
  likes: number;
  reposts: number;
  comments: number;
  profile_views?: number; // creator figures only
}
export interface Day extends Partial<Totals> {
  date: string;
}
export interface CreatorAnalytics {
  range: { from: string; to: string };
  totals: Totals;
  days: Day[];
  top_tracks: { id: string; title: string; plays: number; qualified_plays: number }[];
  countries: { country: string; plays: number }[];
}
export interface TrackAnalytics {
  track_id: string;
  totals: Totals;
  days: Day[];
  retention: { start_ms: number; end_ms: number; stops: number; reached: number }[];
  completed: number;
}

// Days as chart x values (Unix seconds, UTC midnight).
export function dayX(days: Day[]): number[] {
  return days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
}

// The retention curve: share of the sessions that reached each bucket's start, in percent.
export function retentionCurve(r: TrackAnalytics['retention']): { x: number[]; y: number[] } {
  const first = r[0]?.reached ?? 0;
  return {
    x: r.map((b) => b.start_ms / 1000),
    y: r.map((b) => (first ? Math.round((b.reached / first) * 1000) / 10 : 0)),
  };
}

export function rangeFor(days: number, now = new Date()): { from: string; to: string } {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const from = new Date(to.getTime() - (days - 1) * 86400_000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}
