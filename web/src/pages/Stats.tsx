import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import { Chart } from '../components/Chart';
import { formatCount } from '../components/Social';
import { Empty } from '../components/TrackList';
import { dayX, rangeFor, retentionCurve, type CreatorAnalytics, type TrackAnalytics } from '../state/analytics';
import { formatTime } from '../state/queue';
import { useTitle } from '../state/useTitle';

const RANGES: [number, string][] = [
  [7, '7 days'],
  [30, '30 days'],
  [90, '90 days'],
];

export function Stats() {
  useTitle('Stats');
  const [days, setDays] = useState(30);
  const [data, setData] = useState<CreatorAnalytics | null>(null);
  const [track, setTrack] = useState<string | null>(null);
  const [trackData, setTrackData] = useState<TrackAnalytics | null>(null);
  const [error, setError] = useState('');
  const range = useMemo(() => rangeFor(days), [days]);

  useEffect(() => {
    api<CreatorAnalytics>(`/api/v1/analytics/me?from=${range.from}&to=${range.to}`)
      .then((d) => {
        setData(d);
        setError('');
        setTrack((t) => t ?? d.top_tracks[0]?.id ?? null);
      })
      .catch((e) => setError(errorMessage(e)));
  }, [range]);
  useEffect(() => {
    if (!track) return;
    setTrackData(null);
    api<TrackAnalytics>(`/api/v1/analytics/tracks/${track}?from=${range.from}&to=${range.to}`)
      .then(setTrackData)
      .catch(() => setTrackData(null));
  }, [track, range]);

  const x = useMemo(() => (data ? dayX(data.days) : []), [data]);
  const playSeries = useMemo(
    () =>
      data
        ? [
            { label: 'Plays', values: data.days.map((d) => d.plays ?? 0), color: '--accent', fill: true },
            { label: 'Listeners', values: data.days.map((d) => d.listeners ?? 0), color: '--accent-2' },
          ]
        : [],
    [data],
  );
  const retention = useMemo(() => (trackData ? retentionCurve(trackData.retention) : null), [trackData]);
  const retentionSeries = useMemo(() => (retention ? [{ label: 'Still listening (%)', values: retention.y, color: '--ok', fill: true }] : []), [retention]);
  const maxTop = Math.max(1, ...(data?.top_tracks.map((t) => t.plays) ?? [1]));

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="eyebrow">Creator</p>
          <h1>Your stats</h1>
        </div>
        <div className="segmented" role="group" aria-label="Range">
          {RANGES.map(([d, l]) => (
            <button key={d} className={days === d ? 'seg active' : 'seg'} aria-pressed={days === d} onClick={() => setDays(d)}>
              {l}
            </button>
          ))}
        </div>
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
      {data && (
        <>
          <div className="stat-tiles">
            {(
              [
                ['Plays', data.totals.plays],
                ['Listeners', data.totals.listeners],
                ['Completions', data.totals.completions],
                ['Likes', data.totals.likes],
                ['Reposts', data.totals.reposts],
                ['Comments', data.totals.comments],
                ['Track page views', data.totals.views],
                ['Profile views', data.totals.profile_views ?? 0],
              ] as [string, number][]
            ).map(([l, v]) => (
              <div key={l} className="stat-tile" data-testid="stat-tile">
                <span className="muted small">{l}</span>
                <strong>{formatCount(v ?? 0)}</strong>
              </div>
            ))}
          </div>
          <section className="panel wide-panel" aria-labelledby="plays-heading">
            <h2 id="plays-heading">Plays and listeners per day</h2>
            <Chart x={x} series={playSeries} label={`Plays and listeners per day from ${data.range.from} to ${data.range.to}`} />
          </section>
          <div className="panel-row">
            <section className="panel" aria-labelledby="top-heading">
              <h2 id="top-heading">Top tracks</h2>
              {!data.top_tracks.length ? (
                <p className="muted">No plays in this range yet.</p>
              ) : (
                <ol className="bars">
                  {data.top_tracks.map((t) => (
                    <li key={t.id}>
                      <button className={track === t.id ? 'bar-row active' : 'bar-row'} onClick={() => setTrack(t.id)} aria-pressed={track === t.id}>
                        <span className="bar-label">{t.title}</span>
                        <span className="bar" style={{ width: `${(t.plays / maxTop) * 100}%` }} />
                        <span className="bar-value">{formatCount(t.plays)}</span>
                      </button>
                    </li>
                  ))}
                </ol>
              )}
            </section>
            <section className="panel" aria-labelledby="retention-heading">
              <h2 id="retention-heading">Retention{trackData && data.top_tracks.find((t) => t.id === track) ? `: ${data.top_tracks.find((t) => t.id === track)!.title}` : ''}</h2>
              {retention && retention.x.length ? (
                <>
                  <Chart x={retention.x} series={retentionSeries} time={false} height={200} yLabel="%" xFormat={(v) => formatTime(v)} label="Share of listeners still listening along the track" />
                  <p className="muted small">
                    {trackData!.completed} of {trackData!.totals.plays} plays listened to the end. <Link to={`/tracks/${track}`}>Open the track</Link>
                  </p>
                </>
              ) : (
                <p className="muted">Pick a track with plays to see where listeners stop.</p>
              )}
            </section>
          </div>
          {!!data.countries.length && (
            <section className="panel wide-panel" aria-labelledby="countries-heading">
              <h2 id="countries-heading">Countries</h2>
              <ul className="countries">
                {data.countries.slice(0, 12).map((c) => (
                  <li key={c.country}>
                    <strong>{c.country}</strong> <span className="muted">{formatCount(c.plays)}</span>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
      {!data && !error && <Empty icon="chart" title="Loading your stats…" />}
    </div>
  );
}
