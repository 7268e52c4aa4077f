// Admin: the system page. Live gauges every 5 s: users online and chat WebSockets (summed from
// this node's /metrics), messages per second (the instance's message count between two polls),
// the media queue (tracks still to process) and storage used; then the instance's figures for
// the last 30 days from /api/v1/admin/stats with a chart, the server's own metrics, and its
// recent warn/error log lines (/api/v1/admin/errors; admins only, so a moderator sees none).
import { useEffect, useState } from 'react';
import { api, errorMessage } from '../api/client';
import { Chart } from '../components/Chart';
import { formatBytes, parseMetrics, perSecond } from '../state/metrics';
import { type LoggedProblem, problemDetails } from '../state/problems';

export interface AdminStats {
  range: { from: string; to: string };
  users: number;
  tracks: number;
  plays: number;
  messages: number;
  storage_bytes: number;
  days: { date: string; new_users: number; uploads: number; plays: number; messages: number }[];
}
export interface TrackStates {
  uploaded: number;
  processing: number;
  ready: number;
  failed: number;
  taken_down: number;
  media_queue: number;
}

interface Sample {
  at: number;
  metrics: Map<string, number>;
  stats: AdminStats | null;
  states: TrackStates | null;
  problems: LoggedProblem[] | null;
}

const POLL_MS = 5000;

export function AdminSystem() {
  const [now, setNow] = useState<Sample | null>(null);
  const [rates, setRates] = useState<{ messages?: number; requests?: number; cpu?: number }>({});
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    let last: Sample | null = null;
    const load = async () => {
      try {
        const [metricsText, stats, states, problems] = await Promise.all([
          fetch('/metrics', { credentials: 'same-origin' }).then((r) => r.text()),
          api<AdminStats>('/api/v1/admin/stats').catch(() => null),
          api<TrackStates>('/api/v1/admin/tracks/states').catch(() => null),
          api<{ errors: LoggedProblem[] }>('/api/v1/admin/errors')
            .then((r) => r.errors)
            .catch(() => null),
        ]);
        if (!live) return;
        const sample: Sample = { at: Date.now(), metrics: parseMetrics(metricsText), stats, states, problems };
        const counter = (s: Sample | null, f: (s: Sample) => number | undefined) => {
          const v = s ? f(s) : undefined;
          return s && v !== undefined ? { at: s.at, value: v } : null;
        };
        const rate = (f: (s: Sample) => number | undefined) => {
          const cur = counter(sample, f);
          return cur ? perSecond(counter(last, f), cur) : undefined;
        };
        setRates({
          messages: rate((s) => s.stats?.messages),
          requests: rate((s) => s.metrics.get('veza_http_requests_total')),
          cpu: rate((s) => s.metrics.get('process_cpu_seconds_total')),
        });
        last = sample;
        setNow(sample);
        setError('');
      } catch (e) {
        if (live) setError(errorMessage(e));
      }
    };
    void load();
    const id = window.setInterval(load, POLL_MS);
    return () => {
      live = false;
      window.clearInterval(id);
    };
  }, []);

  const metric = (name: string) => now?.metrics.get(name);
  const count = (v: number | undefined) => (v === undefined ? '–' : Math.round(v).toLocaleString());
  const stats = now?.stats;
  const states = now?.states;
  const gauges: { label: string; value: string; hint: string; id: string }[] = [
    { id: 'users-online', label: 'Users online', value: count(metric('veza_chat_users_online')), hint: 'with chat open on this node' },
    { id: 'sockets', label: 'WebSocket connections', value: count(metric('veza_chat_sockets')), hint: 'chat sockets on this node' },
    {
      id: 'messages-rate',
      label: 'Messages per second',
      value: rates.messages === undefined ? '–' : rates.messages.toFixed(rates.messages < 10 ? 2 : 0),
      hint: rates.messages === undefined ? 'measuring over the next 5 s' : 'over the last 5 s, every room',
    },
    {
      id: 'media-queue',
      label: 'Media queue',
      value: count(states?.media_queue),
      hint: states ? `${states.processing} processing · ${states.failed} failed` : 'tracks waiting for the pipeline',
    },
    { id: 'storage', label: 'Storage used', value: stats ? formatBytes(stats.storage_bytes) : '–', hint: 'originals and unfinished uploads' },
  ];
  const totals: [string, number | undefined][] = [
    ['Accounts', stats?.users],
    ['Tracks', stats?.tracks],
    ['Plays', stats?.plays],
    ['Messages', stats?.messages],
    ['Taken down', states?.taken_down],
  ];
  const cpu = rates.cpu;
  const server: [string, string][] = [
    ['Open connections (HTTP + WebSocket)', count(metric('veza_http_connections_open'))],
    ['Requests per second', rates.requests === undefined ? '–' : rates.requests.toFixed(1)],
    ['Requests in flight', count(metric('veza_http_requests_in_flight'))],
    ['CPU', cpu === undefined ? '–' : `${(cpu * 100).toFixed(1)} %`],
    ['Memory (resident)', metric('process_resident_memory_bytes') === undefined ? '–' : formatBytes(metric('process_resident_memory_bytes')!)],
    ['Open files', count(metric('process_open_fds'))],
  ];
  const names = now ? [...now.metrics.keys()].filter((k) => k.startsWith('veza_') || k.startsWith('process_')).sort() : [];
  const x = stats ? stats.days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000) : [];

  return (
    <div className="system">
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="system-live">
        <h2 id="system-live" className="section-title">
          Live <span className="live-dot" aria-hidden="true" />
          <span className="muted small">{now ? `updated ${new Date(now.at).toLocaleTimeString()}` : 'loading…'}</span>
        </h2>
        <div className="stat-tiles gauges">
          {gauges.map((g) => (
            <div key={g.id} className="stat-tile gauge" data-testid="gauge" data-gauge={g.id}>
              <span className="muted small">{g.label}</span>
              <strong>{g.value}</strong>
              <span className="muted small">{g.hint}</span>
            </div>
          ))}
        </div>
      </section>
      <section aria-labelledby="system-instance">
        <h2 id="system-instance" className="section-title">
          Last 30 days <span className="muted small">{stats ? `${stats.range.from} to ${stats.range.to}` : ''}</span>
        </h2>
        <div className="stat-tiles compact">
          {totals.map(([label, v]) => (
            <div key={label} className="stat-tile" data-testid="instance-stat">
              <span className="muted small">{label}</span>
              <strong>{count(v)}</strong>
            </div>
          ))}
        </div>
        {stats && stats.days.length > 0 && (
          <div className="panel chart-panel">
            <Chart
              x={x}
              height={220}
              label={`New accounts, uploads, plays and messages per day from ${stats.range.from} to ${stats.range.to}`}
              series={[
                { label: 'Messages', values: stats.days.map((d) => d.messages), color: '--accent', fill: true },
                { label: 'Plays', values: stats.days.map((d) => d.plays), color: '--accent-2' },
                { label: 'Uploads', values: stats.days.map((d) => d.uploads), color: '--ok' },
                { label: 'New accounts', values: stats.days.map((d) => d.new_users), color: '--muted' },
              ]}
            />
          </div>
        )}
      </section>
      <section aria-labelledby="system-server">
        <h2 id="system-server" className="section-title">
          This server
        </h2>
        <div className="stat-tiles compact">
          {server.map(([label, v]) => (
            <div key={label} className="stat-tile" data-testid="stat-tile">
              <span className="muted small">{label}</span>
              <strong>{v}</strong>
            </div>
          ))}
        </div>
      </section>
      {now?.problems && (
        <section aria-labelledby="system-errors">
          <h2 id="system-errors" className="section-title">
            Recent errors on this server
          </h2>
          {now.problems.length === 0 ? (
            <p className="muted">No warnings or errors logged since the server started.</p>
          ) : (
            <table className="table" data-testid="recent-errors">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Level</th>
                  <th scope="col">Message</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {now.problems.slice(0, 50).map((p, i) => (
                  <tr key={`${p.time}-${i}`} data-testid="recent-error">
                    <td className="small">{new Date(p.time).toLocaleString()}</td>
                    <td>
                      <span className={p.level === 'error' ? 'badge failed' : 'badge'}>{p.level}</span>
                    </td>
                    <td>{p.msg}</td>
                    <td className="small muted">
                      <code>{problemDetails(p)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      <details className="details">
        <summary>All server metrics ({names.length}, summed over labels), refreshed every 5 s</summary>
        <table className="table">
          <tbody>
            {names.map((n) => (
              <tr key={n}>
                <td>
                  <code>{n}</code>
                </td>
                <td>{Math.round((now!.metrics.get(n) ?? 0) * 1000) / 1000}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

