// Pure helpers of the admin system page (pages/AdminSystem.tsx), kept apart for unit tests.

// Prometheus text format: `name{labels} value` lines; sums a metric over its label sets.
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

// The rate of a counter between two samples; undefined until there are two, never negative
// (a restarted server starts its counters again).
export function perSecond(prev: { at: number; value: number } | null, now: { at: number; value: number }): number | undefined {
  if (!prev || now.at <= prev.at) return undefined;
  return Math.max(0, (now.value - prev.value) / ((now.at - prev.at) / 1000));
}

export function formatBytes(v: number): string {
  if (v >= 1e12) return `${(v / 1e12).toFixed(2)} TB`;
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} GB`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} MB`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} kB`;
  return `${v} B`;
}
